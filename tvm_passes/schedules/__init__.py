"""Hand-written CPU schedules for the fused kernels of the `schedule` phase.

`RULES` is tried in order on every PrimFunc that nothing (tuning records included) has
scheduled yet; the first rule that returns a function wins, and a kernel no rule fits is
left to TVM's defaults. Every rule reads the target's vector width and register file
(cpu.cpu_spec), never the shapes of a particular model.
"""
import tvm
from tvm import tirx

from sedge.tvm_passes.pipeline import register_scheduler
from sedge.tvm_passes.schedules.cpu import cpu_spec
from sedge.tvm_passes.schedules.injective import schedule_injective
from sedge.tvm_passes.schedules.reduction import schedule_reduction

RULES = (schedule_reduction, schedule_injective)


def schedule_func(func: tirx.PrimFunc, spec) -> tirx.PrimFunc | None:
    for rule in RULES:
        scheduled = rule(func, spec)
        if scheduled is not None:
            return scheduled
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
            scheduled = schedule_func(func, spec)
            if scheduled is not None:
                updates[gv] = scheduled
        for gv, func in updates.items():
            mod[gv] = func
        return mod

    return apply
