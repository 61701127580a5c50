"""The shipped board files load into typed boards; inheritance, host detection and user files work."""
import pytest

import sedge.host
from sedge.boards import list_boards, load_board

SHIPPED = ["host", "raspberry-pi-4", "jetson-orin-nano", "zcu104", "cortex-m7", "eyeriss-like"]


def test_list_has_the_required_boards():
    assert set(SHIPPED) <= set(list_boards())


@pytest.mark.parametrize("name", sorted(set(SHIPPED) | {"jetson-orin-nano-super"}))
def test_every_shipped_board_loads_with_positive_figures(name):
    board = load_board(name)
    assert board.name == name and board.description
    assert board.compute.units >= 1 and board.compute.clock_hz > 0
    assert set(board.compute.macs_per_cycle) == {"int8", "fp16", "fp32"}
    assert all(level.size_bytes > 0 and level.bandwidth_gbps > 0 for level in board.sram)
    assert board.dram.read_pj_per_byte > max(level.read_pj_per_byte for level in board.sram)
    assert board.transport["kind"] in ("local", "rpc", "serial", "none")


def test_inheritance_overrides_only_what_the_child_sets():
    parent, child = load_board("jetson-orin-nano"), load_board("jetson-orin-nano-super")
    assert child.compute.clock_hz == 1020e6 and child.dram.bandwidth_gbps == 102
    assert child.sram == parent.sram and child.compute.macs_per_cycle == parent.compute.macs_per_cycle
    assert child.dram.read_pj_per_byte == parent.dram.read_pj_per_byte


def test_user_board_file_by_path_inheriting_a_shipped_board(tmp_path):
    path = tmp_path / "my-pi.toml"
    path.write_text('inherit = "raspberry-pi-4"\ndescription = "overclocked"\n[compute]\nclock_hz = 2.0e9\n')
    board = load_board(str(path))
    assert board.name == "my-pi" and board.compute.clock_hz == 2.0e9 and board.compute.units == 4


def test_host_is_detected_from_lscpu(fixed_host):
    board = load_board("host")
    assert board.compute.units == 8 and board.compute.clock_hz == 3.0e9
    assert board.compute.macs_per_cycle == {"int8": 64, "fp16": 32, "fp32": 16}  # 256-bit, 2 FMA pipes
    assert [level.size_bytes for level in board.sram] == [256 * 2**10, 8 * 2**20, 16 * 2**20]
    assert "Test CPU" in board.description


def test_host_detection_on_this_machine():
    board = load_board("host")
    assert board.compute.units == sedge.host.this_host().physical_cores
    assert board.compute.target.startswith("llvm")
