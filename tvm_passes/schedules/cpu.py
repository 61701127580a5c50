"""What a CPU target offers a schedule: fp32 vector lanes and vector registers.

Read from the target's LLVM features (AVX2, AVX-512, NEON, ...), never from shapes.
"""
from dataclasses import dataclass

import tvm


@dataclass(frozen=True)
class CpuSpec:
    lanes: int  # fp32 elements per vector register
    registers: int  # architectural vector registers
    cores: int

    @property
    def accumulators(self) -> int:
        """Vector accumulators a register-blocked kernel may keep live: the rest hold the
        weight vectors and the broadcast input of the inner loop."""
        return self.registers - 4 if self.registers >= 32 else self.registers - 3


def cpu_spec(target: tvm.target.Target) -> CpuSpec:
    from tvm.target import codegen

    bits = max(int(codegen.llvm_get_vector_width(target)), 32)
    # x86-64 has 32 vector registers with AVX-512, 16 otherwise; aarch64 NEON/SVE has 32
    wide_file = "aarch64" in str(target.attrs.get("mtriple", "")) or \
        codegen.llvm_cpu_has_features(["avx512f"], target)
    cores = int(target.attrs.get("num-cores", 0)) or 1
    return CpuSpec(lanes=bits // 32, registers=32 if wide_file else 16, cores=cores)
