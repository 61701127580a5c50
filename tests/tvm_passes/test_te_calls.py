"""TeCalls: call_te that builds each distinct kernel once (passes/__init__.py)."""
import numpy as np
from tvm import relax, te, tirx

from sedge.tvm_passes.passes import TeCalls


def scaled(x, factor):
    return te.compute(x.shape, lambda *i: x(*i) * factor, name="scaled")


def gathered(x, index):
    return te.compute(index.shape, lambda i: x[index[i]], name="gathered")


def _kernels(shapes_and_factors):
    bb = relax.BlockBuilder()
    calls = TeCalls(bb)
    params = [relax.Var(f"x{i}", relax.TensorType(shape, "float32")) for i, (shape, _) in enumerate(shapes_and_factors)]
    with bb.function("main", params):
        with bb.dataflow():
            outs = [bb.emit(calls(scaled, x, factor, primfunc_name_hint="scaled"))
                    for x, (_, factor) in zip(params, shapes_and_factors)]
            out = bb.emit_output(relax.Tuple(outs))
        bb.emit_func_output(out)
    mod = bb.get()
    return mod, [gv for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)]


def test_calls_of_one_shape_and_options_share_one_kernel():
    mod, kernels = _kernels([((2, 8), 2.0), ((2, 8), 2.0), ((2, 8), 3.0), ((4, 8), 2.0)])
    assert len(kernels) == 3, "(2, 8) x 2 built once; another factor or shape is a kernel of its own"
    relax.analysis.well_formed(mod)  # raises on a malformed module in this TVM
    calls = [b.value for b in mod["main"].body.blocks[0].bindings if isinstance(b.value, relax.Call)]
    assert calls[0].args[0].same_as(calls[1].args[0]) and calls[1].args[1].fields[0].same_as(mod["main"].params[1])


def test_a_constant_argument_is_passed_not_baked_in():
    bb = relax.BlockBuilder()
    calls = TeCalls(bb)
    x = relax.Var("x", relax.TensorType((8,), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            first = bb.emit(calls(gathered, x, relax.const(np.arange(4, dtype="int32")), primfunc_name_hint="g"))
            second = bb.emit(calls(gathered, x, relax.const(np.arange(4, 8, dtype="int32")), primfunc_name_hint="g"))
            out = bb.emit_output(relax.Tuple([first, second]))
        bb.emit_func_output(out)
    mod = bb.get()
    bindings = mod["main"].body.blocks[0].bindings
    index_args = [b.value.args[1].fields[1] for b in bindings[:2]]
    assert [list(a.value.numpy()) for a in index_args] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert bindings[0].value.args[0].same_as(bindings[1].value.args[0]), "one kernel, two index tables"
