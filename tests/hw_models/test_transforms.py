"""The batched fast DCT kernel (tvm_passes/kernels/dct_batched.py) as the records count it
(sedge/fast_dct.py) and the estimate prices it (hw_models/transforms.py): blocks of vectors
across the lanes, the blocks over the cores, the scratch in cache, the weights only diagonals.
tests/tvm_passes/test_dct_batched.py checks the same counts against the kernel's TIR."""
import math

import pytest

from sedge import fast_dct
from sedge.boards import load_board
from sedge.contract import LayerRecord
from sedge.hw_models import estimate
from sedge.hw_models.transforms import is_fast_transform, lane_fill, transform_cycles

F32 = 4


def acdc_record(N=4096, vectors=1, factors=12, lowering="factored", kernel="dct_batched", macs=None, adds=None):
    muls, all_adds = fast_dct.stack_ops(N, factors, True)
    attrs = {"n": N, "factors": factors, "bias": 1, "lowering": lowering}
    if kernel:
        attrs["kernel"] = kernel
    return LayerRecord(name="acdc", op="acdc", input_shapes=[[vectors, N]], output_shape=[vectors, N],
                       weight_shapes=[[factors, N]] * 3,
                       macs=vectors * muls if macs is None else macs,
                       adds=vectors * (all_adds - muls) if adds is None else adds,
                       weight_bytes=3 * factors * N * F32, input_bytes=vectors * N * F32,
                       output_bytes=vectors * N * F32, attrs=attrs)


# --- the counts, by hand from the kernel's structure


def test_a_stage_list_and_a_fused_gather_per_N():
    assert fast_dct.radices(2048) == [4, 8, 8, 8] and fast_dct.radices(512) == [8, 8, 8]
    assert fast_dct.radices(4) == [4] and fast_dct.radices(128) == [2, 8, 8]
    # the first stage reads through the gather where it has an even count of butterflies
    assert fast_dct.fuses_gather(4096) and fast_dct.fuses_gather(32)  # 2048 / 4 = 512, 16 / 2 = 8
    assert not fast_dct.fuses_gather(16)  # 8 / 8 = one butterfly
    # per factor: 2 x 4 stages + the middle pass; the output gather: 12 x 9 + 1
    assert fast_dct.stack_passes(4096, 12).scratch == 109
    assert fast_dct.stack_passes(16, 12).scratch == 12 * (2 * 1 + 1 + 1) + 1  # the gather a pass of its own


def test_butterflies_by_hand():
    # radix 8 = 2 x 4: 4 complex sums and 4 differences (16 adds), then a 4-point DFT of each
    # (16 adds each), the differences rotated by exp(-i pi / 4) and exp(-3 i pi / 4) first
    # (4 multiplies by sqrt(1/2), 4 adds): 52 adds, 4 multiplies
    assert fast_dct.BUTTERFLY_OPS[8] == (4, 16 + 16 + 16 + 4)
    # a 512-point FFT: 3 radix-8 stages of 64 butterflies, 7 twiddles each (4 multiplies,
    # 2 adds) in the first two
    assert fast_dct.fft_ops(512) == (3 * 64 * 4 + 2 * 64 * 7 * 4, 3 * 64 * 52 + 2 * 64 * 7 * 2)


def test_dct2_counts_at_1024_are_the_kernels():
    # the figure tests/tvm_passes/test_dct_batched.py counts in the TIR: the FFT (4352, 11776)
    # and 257 pairs of the split / twist pass at (20, 20)
    assert fast_dct.dct2_ops(1024) == (9492, 16916) == (4352 + 257 * 20, 11776 + 257 * 20)


def test_a_12_factor_stack_of_4096_by_hand():
    """alexnet-acdc's FC6 / FC7: per factor two 2048-point FFTs and the middle pass."""
    radix4 = (512 * 3 * 4, 512 * (16 + 3 * 2))  # 512 butterflies, 3 twiddles each
    radix8 = (256 * (4 + 7 * 4), 256 * (52 + 7 * 2))  # 256 butterflies, 7 twiddles each
    last = (256 * 4, 256 * 52)  # the last stage: no twiddles
    fft = tuple(radix4[i] + 2 * radix8[i] + last[i] for i in range(2))
    assert fft == (23552, 58368) == fast_dct.fft_ops(2048)
    middle = (1025 * 40, 1025 * 47)  # the pairs (k, M - k), k <= 1024
    gathers = (4096 + 11 * 2 * 4096 + 4096, 12 * 4096)  # x A; scale, bias, x A; scale, bias
    want = tuple(12 * (2 * fft[i] + middle[i]) + gathers[i] for i in range(2))
    assert fast_dct.stack_ops(4096, 12, True) == want == (1155552, 2028084)
    # about 0.4 of methods.md's 4N + 5N log2 N mult-adds in multiplies, 0.64 in adds
    assert want[0] / (12 * fast_dct.fast_dct_macs(4096)) == pytest.approx(0.367, abs=1e-3)
    # without a bias: 4096 adds fewer per factor
    assert fast_dct.stack_ops(4096, 12, False) == (want[0], want[1] - 12 * 4096)


# --- which records are the kernel's


def test_only_a_factored_batched_record_is_a_transform():
    assert is_fast_transform(acdc_record())
    assert not is_fast_transform(acdc_record(lowering="fold", kernel="", macs=4096 * 4096, adds=0))
    # `factored` as the generic body (a GPU, N no power of two): 2 L N^2 MACs of dense matmuls
    assert not is_fast_transform(acdc_record(N=1024, kernel="", macs=12 * 2 * 1024 * 1024, adds=0))
    assert not is_fast_transform(acdc_record(N=4, kernel=""))  # kernels/dct.py below N = 8
    # a package from before the records named the kernel: methods.md's count
    legacy = acdc_record(kernel="", macs=12 * fast_dct.fast_dct_macs(4096), adds=0)
    assert is_fast_transform(legacy)


# --- the time: blocks over the cores, the lane fill, the scratch's level


def test_one_vector_runs_one_block_on_one_core_at_the_lane_fill(fixed_host):
    board = load_board("host")  # fixed_host: 8 cores, AVX2 (8 fp32 lanes), 32 KiB L1d a core
    compute = board.compute
    record = acdc_record(vectors=1)
    cycles, (level, scratch_bytes) = transform_cycles(record, board, "fp32", F32)
    lanes = compute.macs_per_cycle["fp32"] // 2
    assert lanes == 8 and lane_fill(1, lanes) == math.sqrt(1 / 8)
    # every multiply with an add, and the adds beyond: the TIR's adds at the board's rate
    ops = record.macs / compute.macs_per_cycle["fp32"] + record.adds / compute.adds_per_cycle["fp32"]
    assert ops == 2028084 / compute.macs_per_cycle["fp32"]
    assert cycles["compute"] == pytest.approx(ops / (compute.efficiency * math.sqrt(1 / 8)))
    # the scratch, 2 x 4096 floats, stays in one core's L1d; 109 passes read and write it
    assert level == "L1d" and scratch_bytes == 109 * 2 * 4096 * F32
    assert cycles["compute"] > cycles["L1d scratch"]


def test_blocks_fill_the_lanes_and_spread_over_the_cores(fixed_host):
    board = load_board("host")

    def compute(vectors):
        return transform_cycles(acdc_record(vectors=vectors), board, "fp32", F32)[0]["compute"]

    # 8 vectors: one block of 8 lanes, on one core, at full fill: 8 x the ops of one vector
    # at sqrt(8) x the rate of one
    assert compute(8) == pytest.approx(compute(1) * 8 / math.sqrt(8))
    assert compute(64) == pytest.approx(compute(8))  # 8 blocks on 8 cores
    assert compute(128) == pytest.approx(2 * compute(8))  # two rounds
    assert compute(9) == pytest.approx(compute(8))  # 2 blocks (the last of 1 vector runs 8 lanes) on 2 cores


def test_the_scratch_goes_to_the_level_that_holds_a_cores_block(fixed_host):
    board = load_board("host")
    # 8 vectors of 4096: 2 x 4096 x 8 floats = 256 KiB, in a core's 1 MiB of L2
    cycles, (level, scratch_bytes) = transform_cycles(acdc_record(vectors=8), board, "fp32", F32)
    assert level == "L2" and "L2 scratch" in cycles
    assert scratch_bytes == 109 * 2 * 4096 * 8 * F32


def test_dram_sees_the_diagonals_and_the_activations_once(fixed_host):
    board = load_board("host")
    layer = estimate([acdc_record(vectors=1)], board).layers[0]
    assert layer.dram_bytes == {"weights": 3 * 12 * 4096 * F32, "inputs": 4096 * F32, "outputs": 4096 * F32}
    assert layer.bound == "compute"
    # the scratch passes are L1 accesses, not DRAM ones
    assert layer.accesses["L1d"]["reads"] >= 109 * 4096 * F32
    assert layer.accesses["DRAM"]["reads"] == 3 * 12 * 4096 * F32 + 4096 * F32
