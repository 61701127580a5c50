"""The host board under a hypervisor: the L3 a guest sees is not its own."""
import dataclasses

from sedge.boards import host as host_board
from sedge.boards import load_board


def test_a_guest_keeps_the_board_files_l3_and_bare_metal_detects_it(fixed_host):
    data = {"compute": {}, "memory": {"sram": [{"name": "L2", "size_bytes": 1}, {"name": "L3", "size_bytes": 7}]}}
    bare = host_board.detect(data, fixed_host)
    assert [level["size_bytes"] for level in bare["memory"]["sram"]] == [8 * 2**20, 16 * 2**20]
    guest = dataclasses.replace(fixed_host, flags=fixed_host.flags | {"hypervisor"})
    assert [level["size_bytes"] for level in host_board.detect(data, guest)["memory"]["sram"]] == [8 * 2**20, 7]


def test_the_host_file_carries_the_measured_efficiency_and_bandwidths(fixed_host):
    board = load_board("host")
    assert 0 < board.compute.efficiency < 1
    assert board.dram.bandwidth_gbps < board.sram[-1].bandwidth_gbps
