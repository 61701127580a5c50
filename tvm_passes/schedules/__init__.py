"""Hand-written CPU schedules for the fused kernels of the `schedule` phase.

`RULES` is tried in order on every PrimFunc that nothing (tuning records included) has
scheduled yet; the first rule that accepts the function wins, and a kernel no rule fits is
left to TVM's defaults. Rules work on a `tvm.s_tir.Schedule`, so each hand schedule has a
trace: `sedge tune` stores it as the baseline record that tuning must beat. Every rule reads the target's vector width and register file
(cpu.cpu_spec), never the shapes of a particular model.
"""
import tvm
from tvm import tirx
from tvm.s_tir.schedule import ScheduleError

from sedge.tvm_passes.pipeline import register_scheduler
from sedge.tvm_passes.schedules.cpu import cpu_spec
from sedge.tvm_passes.schedules.injective import schedule_injective
from sedge.tvm_passes.schedules.reduction import schedule_reduction
from sedge.tvm_passes.schedules.winograd import schedule_winograd

RULES = (schedule_winograd, schedule_reduction, schedule_injective)


def schedule_func(func: tirx.PrimFunc, spec) -> tvm.s_tir.Schedule | None:
    """The schedule of the first rule that takes `func`, or None."""
    for rule in RULES:
        sch = tvm.s_tir.Schedule(func)
        try:
            if rule(sch, spec):
                return sch
        except ScheduleError:  # a primitive refused this kernel's structure: the next rule may fit
            continue
    return None


@register_scheduler("llvm")
def cpu_schedules(target: tvm.target.Target) -> tvm.transform.Pass:
    spec = cpu_spec(target)

    @tvm.transform.module_pass(opt_level=0, name="SedgeCpuSchedules")
    def apply(mod, _ctx):
        updates = {}
        for gv, func in mod.functions.items():
            if not isinstance(func, tirx.PrimFunc) or func.attrs.get("tirx.is_scheduled", False):
                continue
            sch = schedule_func(func, spec)
            if sch is not None:
                updates[gv] = sch.mod["main"].with_attr("tirx.is_scheduled", True)
        for gv, func in updates.items():
            mod[gv] = func
        return mod

    return apply
