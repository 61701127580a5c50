"""What a CPU target offers a schedule: fp32 vector lanes and vector registers.

Read from the target's LLVM features (AVX2, AVX-512, NEON, ...), never from shapes.
"""
import functools
import json
from dataclasses import dataclass

import tvm

# the L2 share of a CPU nothing describes (a foreign -mcpu no board file names): 1 MiB,
# the L2 of current x86 server/desktop cores
DEFAULT_L2_BYTES = 1 << 20


@dataclass(frozen=True)
class CpuSpec:
    lanes: int  # fp32 elements per vector register
    registers: int  # architectural vector registers
    # the cache one output tile's weights are re-read from while the tile sweeps the image:
    # each core's share of the L2 (cache_bytes below)
    l2_bytes: int = DEFAULT_L2_BYTES
    # below this many loop iterations a kernel runs on one core: waking the other workers
    # costs microseconds, and on a busy machine one descheduled worker stalls the barrier
    parallel_min_work: int = 1 << 16

    @property
    def accumulators(self) -> int:
        """Vector accumulators a register-blocked kernel may keep live: the rest hold the
        weight vectors and the broadcast input of the inner loop."""
        return 24 if self.registers >= 32 else 12


# fp32 lanes per vector register, widest first; LLVM's own vector-width query answers
# 512 for every x86 CPU in this TVM, so the width is read from the features instead
_VECTOR_FEATURES = (("avx512f", 16), ("avx", 8), ("sse2", 4), ("neon", 4))


def cpu_spec(target: tvm.target.Target) -> CpuSpec:
    from tvm.target import codegen

    lanes = next((n for feature, n in _VECTOR_FEATURES if codegen.llvm_cpu_has_features([feature], target)), 1)
    # x86-64 has 32 vector registers with AVX-512, 16 otherwise; aarch64 has 32
    wide_file = lanes == 16 or codegen.llvm_cpu_has_features(["neon"], target)
    return CpuSpec(lanes=lanes, registers=32 if wide_file else 16, l2_bytes=cache_bytes(target))


def cache_bytes(target: tvm.target.Target) -> int:
    """Each core's share of the L2 of the machine `target` compiles for: from the board file
    the target names (`--board`) or whose -mcpu it has, else from this machine when the
    target is this machine's CPU, else DEFAULT_L2_BYTES."""
    return _cache_bytes(str(target))


@functools.lru_cache(maxsize=16)  # every pass and schedule of a compile asks for the same target
def _cache_bytes(target_json: str) -> int:
    from sedge.boards import board_for_target
    from sedge.host import this_host
    from sedge.tvm_passes.target import host_target, is_host_compatible

    config = json.loads(target_json)
    board = board_for_target(config)
    if board is not None:
        l2 = next((level for level in board.sram if level.name == "L2"), None)
        return int(l2.size_bytes) // board.compute.units if l2 else DEFAULT_L2_BYTES
    if is_host_compatible(config) and config.get("mcpu") in (None, host_target()["mcpu"]):
        return this_host().cache_share_bytes("L2") or DEFAULT_L2_BYTES
    return DEFAULT_L2_BYTES
