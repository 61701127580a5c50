"""The estimator over plain records: precision, shared generators, CSG modes, credits, totals."""
import dataclasses
import json

import pytest
from toy_records import conv, csg, toy_network

from sedge.boards import load_board
from sedge.contract import LayerRecord
from sedge.errors import SedgeError
from sedge.hw_models import estimate


def board_with_buffer(size, name="raspberry-pi-4"):
    board = load_board(name)
    return dataclasses.replace(board, sram=board.sram[:-1] + (dataclasses.replace(board.sram[-1], size_bytes=size),))


def test_precision_scales_every_byte_count():
    fp32 = estimate(toy_network(), load_board("zcu104"), "fp32").totals()
    int8 = estimate(toy_network(), load_board("zcu104"), "int8").totals()
    assert int8["parameter_bytes"] == pytest.approx(fp32["parameter_bytes"] / 4)
    assert int8["macs"] == fp32["macs"]


def test_unknown_precision_is_one_line():
    with pytest.raises(SedgeError, match="unknown precision 'fp64'; allowed: int8, fp16, fp32"):
        estimate(toy_network(), load_board("host"), "fp64")


def test_a_resident_generator_is_fetched_once_for_the_network():
    layers = [csg("a", 32, 32, 8), csg("b", 32, 32, 8)]
    generator = layers[0].shared_weights["csg_generator"]
    est = estimate(layers, board_with_buffer(1 << 20))
    assert [layer.mode for layer in est.layers] == ["generate", "generate"]
    assert est.layers[0].dram_bytes["weights"] == layers[0].weight_bytes + generator
    assert est.layers[1].dram_bytes["weights"] == layers[1].weight_bytes
    assert est.parameter_bytes == 2 * layers[0].weight_bytes + generator


def test_without_room_for_the_generator_each_layer_picks_the_cheaper_of_generate_and_materialised():
    small = csg("small", 8, 8, 8)  # dense kernel 2.3 KB < codes + generator 37 KB
    big = csg("big", 256, 256, 8)  # dense 2.4 MB > codes + generator 102 KB
    est = estimate([small, big], board_with_buffer(20_000))
    assert [layer.mode for layer in est.layers] == ["materialised", "generate"]
    assert est.layers[0].dram_bytes["weights"] == small.attrs["dense_weight_bytes"]
    assert est.layers[0].macs == small.macs and est.layers[1].macs > big.macs  # generation counted


def test_an_output_the_next_layer_consumes_stays_on_chip():
    chain = [conv("a", 8, 8, 16), conv("b", 8, 8, 16)]
    est = estimate(chain, board_with_buffer(1 << 20))
    assert est.layers[0].dram_bytes["outputs"] == 0 and est.layers[1].dram_bytes["inputs"] == 0
    assert est.layers[1].dram_bytes["outputs"] == chain[1].output_bytes
    unrelated = [conv("a", 8, 8, 16), conv("b", 4, 8, 16)]  # b does not read a's output
    assert estimate(unrelated, board_with_buffer(1 << 20)).layers[0].dram_bytes["outputs"] == unrelated[0].output_bytes


def test_unknown_operators_are_counted_from_their_record_fields():
    odd = LayerRecord(name="x", op="mystery", input_shapes=[[7]], output_shape=[7], macs=70, adds=7,
                      weight_bytes=28, input_bytes=28, output_bytes=28)
    layer = estimate([odd], load_board("cortex-m7")).layers[0]
    assert layer.macs == 70 and layer.total_dram_bytes == 84


def test_latency_is_the_slowest_of_compute_and_memories_per_layer():
    est = estimate(toy_network(), load_board("raspberry-pi-4"))
    for layer in est.layers:
        assert layer.total_cycles == max(layer.cycles.values())
    assert est.totals()["cycles"] == pytest.approx(sum(layer.total_cycles for layer in est.layers))
    assert est.totals()["latency_s"] == pytest.approx(est.totals()["cycles"] / 1.5e9)


def test_energy_adds_up_by_operation_and_memory():
    est = estimate(toy_network(), load_board("eyeriss-like"))
    totals = est.totals()
    assert set(totals["energy_pj"]) == {"mult", "add", "RF", "GLB", "DRAM"}
    assert totals["energy_pj_total"] == pytest.approx(sum(totals["energy_pj"].values()))
    assert totals["energy_pj"]["DRAM"] == pytest.approx(100 * sum(totals["accesses"]["DRAM"].values()))


def test_baseline_savings_and_json():
    dense = [conv("a", 32, 32, 8), conv("b", 32, 32, 8)]
    compressed = [csg("a", 32, 32, 8), csg("b", 32, 32, 8)]
    est = estimate(compressed, load_board("zcu104"), baseline=dense, model="csg", baseline_model="dense")
    savings = est.savings()
    assert savings["parameter_bytes"] == pytest.approx(est.baseline.parameter_bytes / est.parameter_bytes)
    data = json.loads(est.to_json())
    assert data["baseline"]["model"] == "dense" and data["savings"]["dram_bytes_total"] > 1
    assert set(data["layers"][0]["dram_bytes"]) == {"weights", "inputs", "outputs"}


def test_an_elementwise_layer_on_its_producers_output_is_fused():
    producer = conv("a", 8, 8, 16)
    relu = LayerRecord(name="relu", op="elementwise", input_shapes=[producer.output_shape],
                       output_shape=producer.output_shape, input_bytes=producer.output_bytes,
                       output_bytes=producer.output_bytes)
    est = estimate([producer, relu], board_with_buffer(1000))  # far too small to keep the map on chip
    assert est.layers[0].dram_bytes["outputs"] == 0
    assert est.layers[1].order == "fused" and est.layers[1].dram_bytes == {
        "weights": 0, "inputs": 0, "outputs": producer.output_bytes}
    assert est.layers[1].accesses["L2"]["reads"] == 0  # its input never leaves the innermost level


def test_the_generator_residency_is_the_policy_that_moves_fewer_bytes():
    from sedge.hw_models.estimate import _layers, _size

    layers = [conv("stem", 3, 64, 32), csg("a", 64, 64, 32), csg("b", 64, 64, 32)]
    sized = [_size(layer, "fp32") for layer in layers]
    generator = {"csg_generator": layers[1].shared_weights["csg_generator"]}
    # 530 KB: holding the generator leaves too little room to keep the 262 KB maps on chip
    for buffer, resident_wins in ((530_000, False), (1 << 20, True)):
        board = board_with_buffer(buffer)
        streamed, resident = [sum(l.total_dram_bytes for l in _layers(layers, sized, board, "fp32", policy))
                              for policy in ({}, generator)]
        assert (resident < streamed) == resident_wins
        assert sum(l.total_dram_bytes for l in estimate(layers, board).layers) == min(streamed, resident)
