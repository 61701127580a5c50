"""The compilation pipeline, as one recipe: named phases, each an ordered list of passes.

    import-cleanup -> rewrite -> lift-params -> dispatch -> legalize -> schedule -> lower -> finalize

`phases(target)` below is the whole recipe: every pass that runs, in run order, each with
the reason it stands where it does. sedge's own passes are plain factories
(`target -> tvm.transform.Pass`, one per file in `passes/`); a pass's name is the one its
`tvm.transform.Pass` carries. The dispatch, legalize, lower and finalize phases are TVM's
own cpu_generic / cuda backend phases (FuseOps, FuseTIR, FoldConstant: fused kernels, not
the bare default build). `sedge passes list` prints this recipe; `pass_names(target)` is
the lookup by name that `--disabled-pass` and `--print-ir-before/after` are checked against.
"""
import tvm
from tvm import relax

from sedge.tvm_passes import legalize
from sedge.tvm_passes.lowering import choose_lowering
from sedge.tvm_passes.passes.acdc import acdc_lowering
from sedge.tvm_passes.passes.channel_shuffle import sink_channel_shuffles
from sedge.tvm_passes.passes.channels_last import channels_last
from sedge.tvm_passes.passes.fft_conv import fft_conv_lowering
from sedge.tvm_passes.passes.fold_batch_norm import fold_batch_norm
from sedge.tvm_passes.passes.inline_constructs import inline_constructs
from sedge.tvm_passes.passes.packed_conv import pack_conv_weights
from sedge.tvm_passes.passes.packed_matmul import pack_matmul_weights
from sedge.tvm_passes.passes.scalar_clamps import scalar_clamps_as_ops
from sedge.tvm_passes.passes.structured_conv import structured_conv
from sedge.tvm_passes.passes.vector_math import vector_math
from sedge.tvm_passes.passes.winograd_conv import winograd_conv
from sedge.tvm_passes.schedules import cpu_schedules
from sedge.tvm_passes.schedules.gpu import gpu_schedules
from sedge.tvm_passes.tensor_intrinsics import import_for_tensor_cores

# sedge's own rewrites, in run order
REWRITE = (
    # first: batch-norms fold into their convs while those are still NCHW / OIHW
    fold_batch_norm,
    # clamps (ReLU6, hard-sigmoid bounds) become Relax ops before the layout rewrite, which
    # moves ops but not the TIR functions TVM's importer made of them
    scalar_clamps_as_ops,
    # before the construct rewrites, which carry out what it marks: each compressed layer's
    # lowering, the cheapest by its family's cost model on this target or the one forced by
    # --lowering (lowering.py); the records and --explain read the same decision
    choose_lowering,
    # before inlining (it finds the StructuredConv constructs) and channels-last (which lays
    # out the convs it makes): the add-only sum-pool + small conv, or alpha folded into the
    # dense kernel at load time, as marked
    structured_conv,
    # before inlining (it finds the ACDC constructs) and channels-last (which lays out the 1x1
    # conv it makes): each ACDC stack folded into one dense 1x1 conv (the stack's repeat /
    # group sum included) or run as the fast-DCT kernel, as marked
    acdc_lowering,
    # before inlining (it finds the FFTConv constructs) and channels-last (which lays out the
    # convs it makes): each band-limited conv as a band projection of its input + the dense
    # conv, or a pruned-DFT frequency-domain conv, by fft_cost.py; the rest keep their body
    fft_conv_lowering,
    # after every pass that replaces a compressed construct, before the layout rewrite: the
    # constructs left are inlined into their generic bodies, so that layouts, weight
    # packing and fusion reach their convs
    inline_constructs,
    # channels-last on CPUs: the convs' output channels innermost, vectorised
    channels_last,
    # after channels-last: channel shuffles are NHWC gathers, sunk into their consumers
    sink_channel_shuffles,
    # before packing: Winograd takes the 3x3 convs it pays on, packing takes the rest
    winograd_conv,
    # after channels-last: HWIO weights packed per output-channel tile
    pack_conv_weights,
    # matmuls' right operands packed per output-column tile likewise (transformers' linear
    # layers, attention); after every rewrite that makes matmuls (ACDC folds, FFT projections)
    pack_matmul_weights,
    # last: the ops it replaces (exp, tanh, erf, softmax) stay Relax ops until then, so
    # that every rewrite above saw them
    vector_math,
)

# the schedule phase's own rules, by target kind
SCHEDULES = {"llvm": cpu_schedules, "cuda": gpu_schedules}


def _backend(target: tvm.target.Target):
    # the package __init__ does not re-export every phase; the pipeline modules have them all
    if target.kind.name == "cuda":
        from tvm.relax.backend.cuda import pipeline
    else:
        from tvm.relax.backend.cpu_generic import pipeline
    return pipeline


def phases(target: tvm.target.Target, tuning_records: str | None = None) -> dict[str, list[tvm.transform.Pass]]:
    """The recipe: phase name -> its passes, in run order."""
    legalize.install()  # sedge's legalizations over TVM's, before FoldConstant first legalizes an op
    backend = _backend(target)
    tvm_legalize = backend.legalize_passes(target)
    dlight_defaults = [p for p in tvm_legalize if p.info.name == "ApplyDefaultSchedule"]
    return {
        # batch-norm, layer-norm and friends as plain arithmetic: the rewrites below see convs,
        # multiplies and adds, not training-time ops
        "import-cleanup": [relax.transform.DecomposeOpsForInference()],
        "rewrite": [factory(target) for factory in REWRITE],
        # weight-only work (transposes, packing) moves to main_transform_params, run once at load
        "lift-params": [relax.transform.LiftTransformParams()],
        "dispatch": backend.library_dispatch_passes(target),
        # TVM's legalization and fusion; dlight's default GPU schedules move to the schedule phase
        "legalize": [p for p in tvm_legalize if p.info.name != "ApplyDefaultSchedule"],
        "schedule": [
            # tuning records first: a tuned kernel is scheduled, and the hand rules skip it
            *([_apply_tuning_records(tuning_records)] if tuning_records else []),
            SCHEDULES[target.kind.name](target),
            # dlight's float16 / int8 matmul rules import TVM's tensor intrinsics: imported
            # here first, in 5 s instead of ~30 (tensor_intrinsics.py)
            *([import_for_tensor_cores()] if dlight_defaults else []),
            # dlight's defaults last (GPUs): they keep every kernel sedge's rules scheduled
            *dlight_defaults,
        ],
        "lower": backend.dataflow_lower_passes(target),
        "finalize": backend.finalize_passes(target),
    }


def _apply_tuning_records(work_dir: str) -> tvm.transform.Pass:
    from tvm.s_tir import meta_schedule as ms  # imported only when tuning records are used

    database = ms.database.JSONDatabase(work_dir=work_dir)

    @tvm.transform.module_pass(opt_level=0, name="SedgeApplyTuningRecords")
    def apply(mod, _ctx):
        with database:
            return relax.transform.MetaScheduleApplyDatabase()(mod)

    return apply


def sedge_pipeline(target: tvm.target.Target, tuning_records: str | None = None) -> tvm.transform.Pass:
    """The recipe as one module pass: every phase's passes, in order, under `target`."""

    @tvm.transform.module_pass(opt_level=0, name="SedgePipeline")
    def pipeline(mod, _ctx):
        with target:
            for passes in phases(target, tuning_records).values():
                mod = tvm.transform.Sequential(passes)(mod)
        return mod

    return pipeline
