"""acdc_cost: the weight memory comes from the target's board, the choice from both."""
import tvm

from sedge.boards import load_board
from sedge.tvm_passes.acdc_cost import acdc_choice, acdc_costs, weight_memory


def test_this_host_reads_its_weights_as_the_host_board_says():
    board = load_board("host")
    memory = weight_memory()
    assert memory.cache_bytes == board.sram[-1].size_bytes
    assert memory.dram_bytes_per_ns == board.dram.bandwidth_gbps
    # one byte past the cache is read at DRAM speed
    assert memory.ns(memory.cache_bytes + 1) > memory.ns(memory.cache_bytes) * 2


def test_a_board_target_reads_that_boards_caches():
    pi = load_board("raspberry-pi-4")
    # `sedge compile --board raspberry-pi-4` tags the target with the board's name
    target = tvm.target.Target({"kind": "llvm", "mtriple": "aarch64-linux-gnu", "mcpu": "cortex-a72",
                                "tag": "raspberry-pi-4"})
    memory = weight_memory(target)
    assert memory.cache_bytes == pi.sram[-1].size_bytes and memory.dram_bytes_per_ns == pi.dram.bandwidth_gbps


def test_costs_keep_their_shape_and_the_alexnet_fc_layer_is_factored():
    costs = acdc_costs(4096, 12, 1, factored_kernel="fast_dct")
    assert set(costs) == {"fold", "factored"}
    (fold_macs, fold_bytes, fold_ns), (fact_macs, fact_bytes, fact_ns) = costs["fold"], costs["factored"]
    assert (fold_macs, fold_bytes) == (4096 * 4096, (4096 * 4096 + 4096) * 4)
    assert fact_macs == 12 * (4 * 4096 + 5 * 4096 * 12) and fact_bytes == 3 * 12 * 4096 * 4 and fact_ns < fold_ns
    choice, reason = acdc_choice(4096, 12, 1)
    assert choice == "factored" and "N=4096" in reason
