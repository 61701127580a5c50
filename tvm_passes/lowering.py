"""The per-layer lowering choice of the compressed constructs, and the pass that marks it.

Every compressed layer imports as a call to a construct function tagged "sedge.op"
(frontend/importers/construct.py). A family can lower it more than one way, e.g. a
structured conv as `sumpool+conv` (the add-only sum-pool kernel, then the small conv) or
`fold` (alpha multiplied back into the dense kernel at load time), an ACDC stack `fold` or
`factored`. For each call this module lists the options with their costs on the target
(MACs, adds, weight bytes read per inference, estimated time: lowering_families.py asks
each family's cost model) and takes the cheapest, unless `--lowering LAYER=CHOICE` (or
`all=CHOICE`) forces one. A layer is named as its record is: `<sedge.op>_<k>`, the k-th
call of that construct in `main`.

The decision is made once, by `decisions()`, and read three ways:
- the pass `ChooseLowering` (first of the construct rewrites in the recipe) gives each call
  its own copy of the construct function carrying {"sedge.layer", "sedge.lowering"}; the
  family passes (passes/structured_conv.py, passes/acdc.py, ...) lower each call as marked,
  and the calls marked `generic` keep the construct's body (InlineConstructs);
- the layer records (layer_records.py) count the chosen option's MACs, adds and weight
  bytes, and carry every option's costs and the reason into metadata.json;
- `sedge compile --explain` prints that table.
"""
from dataclasses import dataclass

import tvm
from tvm import relax

from sedge.errors import SedgeError
from sedge.frontend.importers.construct import OP_ATTR

LAYER_ATTR, LOWERING_ATTR = "sedge.layer", "sedge.lowering"
# module attribute carrying --lowering ({layer or "all": choice}) into the pipeline
OVERRIDES_ATTR = "sedge.lowering_overrides"
GENERIC = "generic"  # the construct's own body, inlined: every target runs it


@dataclass(frozen=True)
class Option:
    """One way to lower a layer, with what it costs per inference on the target."""

    name: str
    macs: int
    adds: int
    weight_bytes: int
    est_us: float
    kernel: str = ""  # the kernel that runs it, where the hardware models price it as its own (attrs["kernel"])

    def as_dict(self) -> dict:
        return {"name": self.name, "macs": self.macs, "adds": self.adds, "weight_bytes": self.weight_bytes,
                "est_us": round(self.est_us, 3)}


@dataclass(frozen=True)
class Decision:
    layer: str
    op: str  # the construct's sedge.op
    choice: str
    reason: str
    options: tuple  # of Option, the family's order
    forced: bool = False

    def option(self, name: str) -> Option:
        return next(o for o in self.options if o.name == name)

    def applied_to(self, record):
        """`record` counting what the chosen lowering runs, with every option's costs."""
        chosen = self.option(self.choice)
        record.macs, record.adds, record.weight_bytes = chosen.macs, chosen.adds, chosen.weight_bytes
        record.attrs = {**record.attrs, "lowering": self.choice, "lowering_reason": self.reason,
                        "lowering_forced": self.forced, "lowering_options": [o.as_dict() for o in self.options]}
        if chosen.kernel:
            record.attrs["kernel"] = chosen.kernel
        return record


def decide(layer: str, op: str, options: list, forced: str | None = None) -> Decision:
    """The cheapest of `options` by estimated time (the first listed on a tie), or `forced`."""
    names = [o.name for o in options]
    if forced is not None:
        if forced not in names:
            raise SedgeError(f"--lowering {layer}={forced}: {layer} ({op}) can be lowered as "
                             f"{', '.join(names)}")
        return Decision(layer, op, forced, f"{forced}: forced by --lowering", tuple(options), True)
    best = min(options, key=lambda o: o.est_us)
    others = "; ".join(f"{o.name} ~{o.est_us:.4g} us" for o in options if o is not best)
    reason = f"{best.name}: ~{best.est_us:.4g} us" + (f" vs {others}" if others else " (the only option)")
    return Decision(layer, op, best.name, reason, tuple(options), False)


def parse_lowering(entries) -> dict:
    """`--lowering LAYER=CHOICE ...` (or one comma-separated string) -> {layer: choice}."""
    if isinstance(entries, str):
        entries = [entries]
    overrides = {}
    for entry in (e.strip() for text in entries or [] for e in str(text).split(",")):
        if not entry:
            continue
        layer, sep, choice = entry.partition("=")
        if not sep or not layer.strip() or not choice.strip():
            raise SedgeError(f"bad --lowering '{entry}': expected LAYER=CHOICE or all=CHOICE "
                             "(layer names as `sedge compile --explain` prints them, e.g. StructuredConv_0=fold)")
        overrides[layer.strip()] = choice.strip()
    return overrides


def decisions(mod, target=None, overrides: dict | None = None, function: str = "main") -> dict:
    """{layer: Decision} for every compressed construct call of `mod[function]`, in order.

    `target`: a tvm Target (None: this host's CPU); `overrides`: {layer or "all": choice}.
    A forced layer that does not exist, or a choice a layer does not have, is a SedgeError
    naming what is allowed."""
    return {decision.layer: decision for _call, decision in _decided_calls(mod, target, overrides, function)}


def _decided_calls(mod, target, overrides: dict | None, function: str) -> list:
    """[(call, Decision)] of `decisions`, each with the construct call it is for."""
    from sedge.tvm_passes.layer_records import recorded_calls
    from sedge.tvm_passes.lowering_families import FAMILIES

    target = target if target is not None else tvm.target.Target(_host())
    overrides = dict(overrides or {})
    everywhere = overrides.pop("all", None)
    decided = []
    for call, info in recorded_calls(mod, function):
        family = FAMILIES.get(info.key)
        if family is None:
            continue
        options = family(info, target)
        names = [o.name for o in options]
        forced = overrides.get(info.name) or (everywhere if everywhere in names else None)
        decided.append((call, decide(info.name, info.key, options, forced)))
    chosen = {decision.layer: decision for _call, decision in decided}
    unknown = sorted(set(overrides) - set(chosen))
    if unknown:
        raise SedgeError(f"--lowering names no such compressed layer: {', '.join(unknown)}; the model's are "
                         f"{', '.join(chosen) or 'none'} (and all)")
    if everywhere is not None and not any(d.forced for d in chosen.values()):
        offered = sorted({o.name for d in chosen.values() for o in d.options})
        raise SedgeError(f"--lowering all={everywhere}: no compressed layer of this model can be lowered so; "
                         f"its layers offer {', '.join(offered) or 'nothing (no compressed layers)'}")
    return decided


def _host() -> dict:
    from sedge.tvm_passes.target import host_target

    return host_target()


def lowering_of(func) -> str | None:
    """The lowering ChooseLowering marked on a construct function (None: not marked)."""
    if func.attrs is None or LOWERING_ATTR not in func.attrs:
        return None
    return str(func.attrs[LOWERING_ATTR])


def marked_construct(mod, call, construct: str):
    """(construct function, its lowering) when `call` calls a marked `construct`, else (None, None)."""
    if not isinstance(call.op, relax.GlobalVar):
        return None, None
    func = mod[call.op]
    if not isinstance(func, relax.Function) or func.attrs is None or func.attrs.get(OP_ATTR) != construct:
        return None, None
    return func, lowering_of(func)


@relax.expr_functor.mutator
class _Mark(relax.PyExprMutator):
    def __init__(self, mod, by_call: dict):
        super().__init__(mod)
        self.mod, self.by_call = mod, by_call

    def visit_call_(self, call):
        decision = self.by_call.get(call)
        call = super().visit_call_(call)
        if decision is None:
            return call
        func = self.mod[call.op].with_attrs({LAYER_ATTR: decision.layer, LOWERING_ATTR: decision.choice})
        gv = self.builder_.add_func(func, f"sedge_{decision.layer}")
        return relax.Call(gv, call.args, call.attrs, call.ty_args)


def choose_lowering(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="ChooseLowering")
    def apply(mod, _ctx):
        if "main" not in [gv.name_hint for gv in mod.get_global_vars()]:
            return mod
        overrides = dict(mod.attrs[OVERRIDES_ATTR]) if mod.attrs and OVERRIDES_ATTR in mod.attrs else {}
        by_call = dict(_decided_calls(mod, target, {str(k): str(v) for k, v in overrides.items()}, "main"))
        if not by_call:
            return mod
        mutator = _Mark(mod, by_call)
        mutator.builder_.update_func(mod.get_global_var("main"), mutator.visit_expr(mod["main"]))
        # the unmarked originals are dead now
        return relax.transform.DeadCodeElimination()(mutator.builder_.get())

    return apply


def with_overrides(mod, overrides: dict):
    """`mod` carrying `--lowering` for ChooseLowering (unchanged when there is none)."""
    return mod.with_attr(OVERRIDES_ATTR, dict(overrides)) if overrides else mod


def explain_table(records) -> str:
    """The `--explain` table: per compressed layer (from its record), the lowering chosen, why,
    and every option's costs ("*" marks the chosen one)."""
    chosen = [r for r in records if "lowering" in r.attrs]
    if not chosen:
        return "no compressed layer with a lowering choice in this model"
    lines = [f"{'layer':<20} {'option':<14} {'MACs':>13} {'adds':>12} {'weight bytes':>13} {'est us':>10}"]
    for record in chosen:
        for i, option in enumerate(record.attrs["lowering_options"]):
            mark = "*" if option["name"] == record.attrs["lowering"] else " "
            lines.append(f"{record.name if i == 0 else '':<20} {mark}{option['name']:<13} {option['macs']:>13} "
                         f"{option['adds']:>12} {option['weight_bytes']:>13} {option['est_us']:>10.2f}")
        lines.append(f"{'':<20}  -> {record.attrs['lowering_reason']}")
    return "\n".join(lines)
