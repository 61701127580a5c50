"""tvmc's `--mixed-precision`: Relax's ToMixedPrecision, with tvmc's flags.

Relax converts the ops whose `TMixedPrecisionPolicy` is "always" (convolutions, matmul,
attention) to float16 and lets the elementwise ops around them follow; the accumulator
(the dtype a conv/matmul sums in) is `acc_type`. tvmc named Relay ops (`nn.conv2d`,
`nn.dense`); they are translated to their Relax ops, and an "always" op the user left out
of `--mixed-precision-ops` is kept in float32 for this one pass run.
"""
from __future__ import annotations

import contextlib

from sedge.errors import SedgeError

CALCULATION_TYPES = ("float16",)  # the only one ToMixedPrecision computes in
ACC_TYPES = ("float16", "float32")
DEFAULT_OPS = ("nn.conv2d", "nn.dense")  # tvmc's default list
DEFAULT_ACC_TYPE = "float32"  # tvmc's was float16; float32 sums keep a conv's error near fp16 rounding
_POLICY = "TMixedPrecisionPolicy"
_NEVER = 2  # relax's MixedPrecisionPolicyKind::kNever
_RELAY_NAMES = {"nn.dense": "relax.matmul", "nn.batch_matmul": "relax.matmul", "nn.matmul": "relax.matmul"}


def always_ops() -> list[str]:
    """The Relax ops ToMixedPrecision converts whenever it meets them."""
    import tvm

    names = []
    for name in tvm.ir.Op.list_op_names():
        policy = tvm.ir.Op.get(name).get_attr(_POLICY)
        if policy is not None and int(policy) == 0:
            names.append(str(name))
    return sorted(names)


def relax_op_names(ops) -> set[str]:
    """tvmc's op names (`nn.conv2d`, `nn.dense`) or Relax's (`relax.nn.conv2d`) -> Relax names."""
    allowed = always_ops()
    chosen = set()
    for name in ops:
        relax_name = _RELAY_NAMES.get(name) or (name if name.startswith("relax.") else f"relax.{name}")
        if relax_name not in allowed:
            raise SedgeError(f"--mixed-precision-ops: '{name}' is not an op ToMixedPrecision converts; allowed: "
                             f"{', '.join(sorted({*DEFAULT_OPS, *(a[len('relax.'):] for a in allowed)}))}")
        chosen.add(relax_name)
    return chosen


@contextlib.contextmanager
def _only(ops: set[str]):
    """Mark the "always" ops outside `ops` as "never" while the pass runs, then restore them."""
    import tvm

    saved = {}
    try:
        for name in always_ops():
            if name not in ops:
                op = tvm.ir.Op.get(name)
                saved[name] = op.get_attr(_POLICY)
                op.reset_attr(_POLICY)
                op.set_attr(_POLICY, _NEVER)
        yield
    finally:
        for name, value in saved.items():
            op = tvm.ir.Op.get(name)
            op.reset_attr(_POLICY)
            op.set_attr(_POLICY, value)


def check(ops=None, calculation_type: str | None = None, acc_type: str | None = None):
    calculation_type = calculation_type or "float16"
    acc_type = acc_type or DEFAULT_ACC_TYPE
    if calculation_type not in CALCULATION_TYPES:
        raise SedgeError(f"--mixed-precision-calculation-type '{calculation_type}' is not supported; allowed: "
                         f"{', '.join(CALCULATION_TYPES)} (Relax's ToMixedPrecision computes in float16)")
    if acc_type not in ACC_TYPES:
        raise SedgeError(f"--mixed-precision-acc-type '{acc_type}' is not supported; allowed: {', '.join(ACC_TYPES)}")
    return relax_op_names(ops or DEFAULT_OPS), acc_type


def mixed_precision(ops=None, calculation_type: str | None = None, acc_type: str | None = None):
    """A module pass: convs/matmuls (`ops`) in float16, accumulating in `acc_type`; the
    model's inputs and outputs stay float32."""
    import tvm
    from tvm import relax

    chosen, acc = check(ops, calculation_type, acc_type)

    @tvm.transform.module_pass(opt_level=0, name="sedge.MixedPrecision")
    def transform(mod, _ctx):
        with _only(chosen):
            return relax.transform.ToMixedPrecision(out_dtype=acc)(relax.transform.ConvertToDataflow()(mod))

    return transform
