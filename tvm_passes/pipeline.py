"""The compilation pipeline: named phases, each a list of passes, composed into one pass.

    import-cleanup -> rewrite (sedge's passes) -> lift-params -> dispatch -> legalize
    -> schedule -> lower -> finalize

The dispatch, legalize, lower and finalize phases are TVM's own cpu_generic / cuda backend
phases (FuseOps, FuseTIR, FoldConstant: fused kernels, not the bare default build); ops
with a legalization of sedge's own (legalize.py) legalize through it there. The cuda
backend's legalize phase ends in dlight's default GPU schedules; they move to the end of the
`schedule` phase, after sedge's own GPU rules, and keep every kernel those rules leave.
`lift-params` moves weight-only computations (transposes, layout packing) into a separate
`main_transform_params` that the runtime calls once at load time, out of the hot path.
`SCHEDULERS` maps a target kind to the factory of its `schedule` phase.
"""
import tvm
from tvm import relax

from sedge.registry import Registry
from sedge.tvm_passes import legalize  # noqa: F401 - registers sedge's legalizations over TVM's
from sedge.tvm_passes.passes import PASSES

SCHEDULERS = Registry("scheduler for target kind")
register_scheduler = SCHEDULERS.register


def _backend(target: tvm.target.Target):
    # the package __init__ does not re-export every phase; the pipeline modules have them all
    if target.kind.name == "cuda":
        from tvm.relax.backend.cuda import pipeline
    else:
        from tvm.relax.backend.cpu_generic import pipeline
    return pipeline


def phases(target: tvm.target.Target, tuning_records: str | None = None) -> dict[str, list]:
    backend = _backend(target)
    legalize = backend.legalize_passes(target)
    defaults = [p for p in legalize if p.info.name == "ApplyDefaultSchedule"]  # dlight's: skips what is scheduled
    schedule = [factory(target) for kind, factory in SCHEDULERS.items() if kind == target.kind.name]
    if tuning_records:
        from tvm.s_tir import meta_schedule as ms  # imported only when tuning records are used

        schedule.insert(0, _apply_database(ms.database.JSONDatabase(work_dir=tuning_records)))
    return {
        "import-cleanup": [relax.transform.DecomposeOpsForInference()],
        "rewrite": [factory(target) for factory in PASSES.values()],
        "lift-params": [relax.transform.LiftTransformParams()],
        "dispatch": backend.library_dispatch_passes(target),
        "legalize": [p for p in legalize if p.info.name != "ApplyDefaultSchedule"],
        "schedule": schedule + defaults,
        "lower": backend.dataflow_lower_passes(target),
        "finalize": backend.finalize_passes(target),
    }


def _apply_database(database):
    @tvm.transform.module_pass(opt_level=0, name="SedgeApplyTuningRecords")
    def apply(mod, _ctx):
        with database:
            return relax.transform.MetaScheduleApplyDatabase()(mod)

    return apply


def sedge_pipeline(target: tvm.target.Target, tuning_records: str | None = None) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="SedgePipeline")
    def pipeline(mod, _ctx):
        with target:
            for passes in phases(target, tuning_records).values():
                mod = tvm.transform.Sequential(passes)(mod)
        return mod

    return pipeline


from sedge.tvm_passes import schedules  # noqa: E402,F401 - registers the CPU and GPU schedules
