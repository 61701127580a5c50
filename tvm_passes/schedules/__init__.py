"""Hand-written CPU schedules for the fused kernels (vectorised, parallel, register-tiled).

The `schedule` phase runs these on CPU targets and `gpu.py`'s rules on GPUs; the recipe in
pipeline.py picks one of the two by target kind.

`RULES` is tried in order on every PrimFunc that nothing (tuning records included) has
scheduled yet; the first rule that accepts the function wins. A kernel no rule takes keeps
TVM's unscheduled loops (a downsampling shortcut's ran 200x slower so), so it is marked
with why (`UNSCHEDULED`) and `sedge compile` names it in a warning: a rule that refuses a
kernel it should take is seen, not hidden in a slow model. Rules work on a
`tvm.s_tir.Schedule`, so each hand schedule has a trace: `sedge tune` stores it as the
baseline record that tuning must beat. Every rule reads the target's vector width and
register file (cpu.cpu_spec), never the shapes of a particular model.
"""
import tvm
from tvm import tirx
from tvm.s_tir.schedule import ScheduleError

from sedge.errors import one_line
from sedge.tvm_passes.schedules.cpu import cpu_spec
from sedge.tvm_passes.schedules.injective import schedule_injective
from sedge.tvm_passes.schedules.reduction import schedule_reduction
from sedge.tvm_passes.schedules.rows import schedule_rows_reduction
from sedge.tvm_passes.schedules.winograd import schedule_winograd

RULES = (schedule_winograd, schedule_reduction, schedule_rows_reduction, schedule_injective)
# the attribute of a kernel no rule took: why each rule refused it
UNSCHEDULED = "sedge.unscheduled"


def schedule_func(func: tirx.PrimFunc, spec) -> tuple[tvm.s_tir.Schedule | None, str]:
    """The schedule of the first rule that takes `func`; else None and why no rule did."""
    refusals = []
    for rule in RULES:
        sch = tvm.s_tir.Schedule(func)
        try:
            if rule(sch, spec):
                return sch, ""
        except ScheduleError as err:  # a primitive refused this kernel's structure: the next rule may fit
            refusals.append(f"{rule.__name__}: {one_line(err)}")
    return None, "; ".join(refusals) or "no schedule rule fits this kernel"


def unscheduled_kernels(mod: tvm.IRModule) -> dict[str, str]:
    """{kernel: why} for the kernels of `mod` that the schedule phase left to TVM's loops."""
    return {gv.name_hint: str(func.attrs[UNSCHEDULED]) for gv, func in mod.functions.items()
            if isinstance(func, tirx.PrimFunc) and func.attrs is not None and UNSCHEDULED in func.attrs}


def cpu_schedules(target: tvm.target.Target) -> tvm.transform.Pass:
    spec = cpu_spec(target)

    @tvm.transform.module_pass(opt_level=0, name="SedgeCpuSchedules")
    def apply(mod, _ctx):
        updates = {}
        for gv, func in mod.functions.items():
            if not isinstance(func, tirx.PrimFunc) or func.attrs.get("tirx.is_scheduled", False):
                continue
            sch, why = schedule_func(func, spec)
            updates[gv] = func.with_attr(UNSCHEDULED, why) if sch is None else \
                sch.mod["main"].with_attr("tirx.is_scheduled", True)
        for gv, func in updates.items():
            mod[gv] = func
        return mod

    return apply
