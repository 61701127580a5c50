"""The fast transform kernel's model (hw_models/transforms.py): lanes, cores and passes."""
import pytest

from sedge.boards import load_board
from sedge.contract import LayerRecord
from sedge.hw_models import estimate
from sedge.hw_models.transforms import fast_dct_macs, is_fast_transform, passes, transform_cycles

F32 = 4


def acdc_record(N=4096, vectors=1, factors=12, lowering="factored", macs=None):
    macs = vectors * factors * fast_dct_macs(N) if macs is None else macs
    return LayerRecord(name="acdc", op="acdc", input_shapes=[[vectors, N]], output_shape=[vectors, N],
                       weight_shapes=[[factors, N]] * 3, macs=macs, weight_bytes=3 * factors * N * F32,
                       input_bytes=vectors * N * F32, output_bytes=vectors * N * F32,
                       attrs={"n": N, "factors": factors, "lowering": lowering})


def test_only_a_factored_fast_dct_record_is_a_transform():
    assert is_fast_transform(acdc_record())
    assert not is_fast_transform(acdc_record(lowering="fold", macs=4096 * 4096))
    # `factored` as the generic body (a GPU, N no power of two): 2 L N^2 MACs of dense matmuls
    assert not is_fast_transform(acdc_record(N=1024, macs=12 * 2 * 1024 * 1024))
    assert passes(acdc_record(N=4096)) == 12 * 2 * (12 + 2)


def test_batch_1_runs_scalar_on_one_core_and_is_bound_by_load_store_issue(fixed_host):
    board = load_board("host")
    cycles, (level, pass_bytes) = transform_cycles(acdc_record(vectors=1), board, "fp32", F32)
    ports = next(v for k, v in cycles.items() if k.endswith("ports"))
    assert ports > cycles["compute"]  # each scalar access takes a port a whole vector could use
    assert level == board.sram[0].name  # one 4096-vector's passes stay in L1
    assert pass_bytes == passes(acdc_record()) * 4096 * 6 * F32


def test_vectors_fill_the_lanes_so_64_cost_far_less_than_64_times_1(fixed_host):
    board = load_board("host")

    def seconds(vectors):
        return estimate([acdc_record(vectors=vectors)], board).totals()["latency_s"]

    assert seconds(64) < 16 * seconds(1)
    assert seconds(1) == pytest.approx(seconds(2), rel=0.05)  # a second vector takes an empty lane


def test_the_estimate_charges_the_passes_not_the_peak_rate(fixed_host):
    board = load_board("host")
    layer = estimate([acdc_record()], board).layers[0]
    assert layer.bound.endswith("ports")
    peak = acdc_record().macs / (board.compute.units * board.compute.macs_per_cycle["fp32"])
    assert layer.total_cycles > 10 * peak
