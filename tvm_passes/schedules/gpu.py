"""GPU schedules for the kernels whose dlight default is wrong or wasteful, before dlight's.

dlight's `ApplyDefaultSchedule` leaves a kernel alone once a rule here has scheduled it,
so these rules take the kernels whose dlight schedule is wrong or wasteful.

`ThreadPerOutput`: a reduction of at most `MAX_SERIAL_REDUCTION` products per output, such
as the grouped 1x1 convs of shuffle layers (2 to 20 input channels per group), is computed
by one thread per output element, serially in a register, with its epilogue (bias, residual,
ReLU) applied by the same thread. dlight's Reduction rule instead spreads each such sum over
16 threads, most of them idle, and for these NCHW convs followed by an epilogue it reads its
per-thread partial sums back through a different thread mapping: on an H200 the
wrn-40-2-shuffle-4 kernels came out up to 100% wrong (TVM 0.27), which `--verify` caught.
"""
from math import prod

import tvm
from tvm import s_tir, tirx
from tvm.s_tir import dlight as dl
from tvm.s_tir.dlight.analysis import normalize_prim_func
from tvm.s_tir.dlight.base import try_inline
from tvm.s_tir.dlight.gpu.base import GPUScheduleRule
from tvm.s_tir.schedule import ScheduleError

MAX_SERIAL_REDUCTION = 64  # products per output one thread sums alone: a 1x1 conv's group of channels
THREADS_PER_BLOCK = 128  # small feature maps (8x8x640 outputs) still fill the multiprocessors


class ThreadPerOutput(GPUScheduleRule):
    """One reduction block (with its epilogue) whose reduction is short: a thread per output."""

    def apply(self, func: tirx.PrimFunc, target: tvm.target.Target, _tunable: bool):
        if not isinstance(func, tirx.PrimFunc) or not self.is_target_available(target):
            return None
        sch = s_tir.Schedule(func)
        blocks = normalize_prim_func(sch)
        if blocks is None:
            return None
        blocks = try_inline(sch, blocks)
        reduction, epilogue = blocks[0], blocks[1:]
        if not reduction.is_reduction() or any(not b.is_injective() for b in epilogue):
            return None
        extents = [i.dom for i in reduction.iters if i.kind == "R"]
        if not all(isinstance(e, int) for e in extents) or prod(extents) > MAX_SERIAL_REDUCTION:
            return None
        try:
            loops = sch.get_loops(reduction.block_rv)
            spatial = [loop for loop, kind in zip(loops, reduction.dom_kind()) if kind == "S"]
            summed = [loop for loop, kind in zip(loops, reduction.dom_kind()) if kind == "R"]
            sch.reorder(*spatial, *summed)
            bx, tx = sch.split(sch.fuse(*spatial), factors=[None, THREADS_PER_BLOCK])
            sch.bind(bx, "blockIdx.x")
            sch.bind(tx, "threadIdx.x")
            for block in epilogue:  # in producer-consumer order, each at its thread's output
                sch.reverse_compute_at(block.block_rv, tx, preserve_unit_loops=True)
            if epilogue:  # the sum is an intermediate: it lives in the thread's register
                sch.set_scope(reduction.block_rv, 0, "local")
            sch.decompose_reduction(reduction.block_rv, summed[0])
        except ScheduleError:  # a layout these primitives cannot fuse: dlight's rules decide
            return None
        return sch


def gpu_schedules(target: tvm.target.Target) -> tvm.transform.Pass:
    # named apart from the dlight defaults that follow it (both are ApplyDefaultSchedule)
    return tvm.transform.Sequential([dl.ApplyDefaultSchedule(ThreadPerOutput())], name="SedgeGpuSchedules")
