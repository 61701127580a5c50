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


def tir_pipeline(before=(), after=(), name="sedge.tir"):
    """(pipeline, host finalization, device finalization), as TVM's pipeline registry wants
    them: `before`, the prefix, TVM's s_tir pipeline, then `after`, in one pass `name`."""
    from tvm.tirx import compilation_pipeline

    main, finalize_host, finalize_device = compilation_pipeline.get_tir_pipeline("s_tir")
    return (tvm.transform.Sequential([*before, simplify_opaque_blocks(), main, *after], name=name),
            finalize_host, finalize_device)


def register() -> str:
    """Register the pipeline (again: idempotent) and return its name for `tvm.compile`."""
    from tvm.tirx import compilation_pipeline

    compilation_pipeline.register_tir_pipeline(NAME, tir_pipeline)
    return NAME
