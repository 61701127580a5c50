"""The TIR pipeline sedge builds with: TVM's s_tir pipeline after a prefix that simplifies
the scheduled kernels while their loops are fresh.

A kernel the schedule splits into pieces by loop partition (a concat along the channels, one
vector loop per input: `schedules/injective.py`) keeps the whole select chain over its
inputs in every piece until TVM's first simplification, and `CompactBufferAllocation`, which
runs before it, analyses every input of every piece: for densenet121's concats of up to 33
inputs, 3.1 s of CPU. Blocks made opaque, the loop ranges prune each piece's chain to its
one input, and that pass takes 0.2 s (the extra simplification of every kernel, 0.6 s).

The prefix is the s_tir pipeline's own first five passes, which it then runs again on the
result, where they find nothing left to do, and one `StmtSimplify`.

After TVM's pipeline, `stack_local_buffers` keeps "local" buffers of up to 64 KiB on the
stack (a register-blocked reduction's accumulator tile over TVM's 1 KiB limit, the sum-pool's
scan rows): MnasNet's 7x7 1x1 convs ran 17% faster without a heap workspace allocated, zeroed
and freed per tile, whole models 2-6% (docs/schedules.md).
"""
import tvm

NAME = "sedge"


def simplify_opaque_blocks() -> tvm.transform.Pass:
    from tvm import s_tir

    return tvm.transform.Sequential([
        s_tir.transform.CanonicalizeLoop(),
        s_tir.transform.LowerCrossThreadReduction(),
        s_tir.transform.LowerInitBlock(),
        s_tir.transform.PlanAndUpdateBufferAllocationLocation(),
        s_tir.transform.ConvertBlocksToOpaque(),
        s_tir.transform.StmtSimplify(),
    ], name="sedge.simplify_opaque_blocks")


# the largest "local" buffer kept on the stack: a register-blocked reduction's accumulator
# tile (24 vectors of 64 bytes at most, schedules/reduction.py), the sum-pool's scan rows
# (kernels/sum_pool.py: 8 pixels of up to 960 channels); a worker thread's stack is megabytes
STACK_LOCAL_BYTES = 64 * 1024
# LowerTVMBuiltin leaves an allocation carrying this annotation to the code generator (an alloca)
DISABLE_LOWER_BUILTIN = "disable_lower_builtin"


def stack_local_buffers() -> tvm.transform.Pass:
    """Small "local" buffers on the stack, not in heap workspaces. LowerTVMBuiltin keeps only
    "global" buffers under 1 KiB (TVM's kMaxStackAlloca) on the stack; every other buffer of
    a CPU kernel becomes a workspace that is allocated, zeroed and freed around each use. The
    accumulator tile of a reduction with more than 16 vector accumulators is "local"
    (schedules/reduction.py) and lives in registers, so each of its tiles paid an allocation,
    a memset and a free for nothing; the sum-pool paid them per image row."""
    import tvm_ffi
    from tvm import tirx

    def annotate(stmt):
        buffer = stmt.buffer
        if buffer.scope() != "local" or DISABLE_LOWER_BUILTIN in stmt.annotations:
            return stmt
        size = 1
        for extent in buffer.shape:
            if not isinstance(extent, tirx.IntImm):
                return stmt
            size *= int(extent)
        if size * tvm.DataType(buffer.dtype).bits // 8 > STACK_LOCAL_BYTES:
            return stmt
        return tirx.AllocBuffer(buffer, {**stmt.annotations, DISABLE_LOWER_BUILTIN: tirx.IntImm("bool", 1)},
                                stmt.span)

    @tvm.tirx.transform.prim_func_pass(opt_level=0, name="sedge.stack_local_buffers")
    def apply(func, _mod, _ctx):
        target = func.attrs.get("target") if func.attrs else None
        if target is not None and target.kind.name != "llvm":
            return func
        return func.with_body(tvm_ffi.structural_map(func.body, (tirx.AllocBuffer, annotate), order="post"))

    return apply


def tir_pipeline(before=(), after=(), name="sedge.tir"):
    """(pipeline, host finalization, device finalization), as TVM's pipeline registry wants
    them: `before`, the prefix, TVM's s_tir pipeline, then `after`, in one pass `name`."""
    from tvm.tirx import compilation_pipeline

    main, finalize_host, finalize_device = compilation_pipeline.get_tir_pipeline("s_tir")
    return (tvm.transform.Sequential([*before, simplify_opaque_blocks(), main, stack_local_buffers(), *after],
                                     name=name),
            finalize_host, finalize_device)


def register() -> str:
    """Register the pipeline (again: idempotent) and return its name for `tvm.compile`."""
    from tvm.tirx import compilation_pipeline

    compilation_pipeline.register_tir_pipeline(NAME, tir_pipeline)
    return NAME
