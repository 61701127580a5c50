"""Operation counts (CSG generation) and Horowitz energies scaled by node."""
import dataclasses

import pytest
from toy_records import conv, csg

from sedge.boards import load_board
from sedge.hw_models.energy import op_energy_pj
from sedge.hw_models.ops import count_ops, generation_macs


def test_a_mac_counts_as_it_is_and_adds_stay_separate():
    layer = conv("c", 8, 8, 4)
    counts = count_ops(layer)
    assert (counts.macs, counts.adds) == (layer.macs, layer.adds)


def test_csg_generation_costs_k_macs_per_dense_kernel_element_only_when_generating():
    layer = csg("g", 32, 32, 8, k=16)
    assert generation_macs(layer) == 32 * 32 * 9 * 16
    assert count_ops(layer, "generate").macs == layer.macs + 32 * 32 * 9 * 16
    assert count_ops(layer, "materialised").macs == layer.macs


def test_horowitz_table_at_45nm_and_scaled_linearly_by_node():
    board = dataclasses.replace(load_board("raspberry-pi-4"), node_nm=45)
    assert op_energy_pj(board, "fp32") == (3.7, 0.9)
    assert op_energy_pj(board, "int8") == (0.2, 0.03)
    assert op_energy_pj(dataclasses.replace(board, node_nm=22.5), "fp16") == pytest.approx((0.55, 0.2))


def test_a_board_overrides_the_table():
    assert op_energy_pj(load_board("eyeriss-like"), "fp16") == (0.8, 0.2)
