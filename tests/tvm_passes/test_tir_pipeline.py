"""sedge's TIR pipeline (tir_pipeline.py): the scheduled kernels simplified while their loops
are fresh, so a concat's partitioned pieces each read their one input before TVM's lowering."""
import numpy as np
import tvm
from tvm import relax, tirx

from sedge.tvm_passes.pipeline import sedge_pipeline
from sedge.tvm_passes.target import host_target
from sedge.tvm_passes.tir_pipeline import register, simplify_opaque_blocks

TARGET = tvm.target.Target(host_target())
INPUTS = 6


def _concat_relu():
    bb = relax.BlockBuilder()
    xs = [relax.Var(f"x{i}", relax.TensorType((1, 4, 4, 16), "float32")) for i in range(INPUTS)]
    with bb.function("main", xs):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.relu(relax.op.concat(xs, axis=3)))
        bb.emit_func_output(out)
    return bb.get()


def _lowered():
    with TARGET, tvm.transform.PassContext(opt_level=3):
        return sedge_pipeline(TARGET)(_concat_relu())


def test_each_piece_of_a_concat_keeps_only_its_own_input():
    lowered = _lowered()
    (name,) = [gv for gv, f in lowered.functions.items() if isinstance(f, tirx.PrimFunc) and "concat" in gv.name_hint]
    kernel = tvm.tirx.transform.BindTarget(TARGET)(tvm.IRModule({name: lowered[name]}))
    assert kernel.script().count("T.if_then_else") >= INPUTS - 1, "scheduled: the select chain in every piece"
    with tvm.transform.PassContext(opt_level=3):
        simplified = simplify_opaque_blocks()(kernel)
    assert "T.if_then_else" not in simplified.script(), simplified.script()


def test_models_built_with_it_compute_the_same():
    lowered = _lowered()
    with tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(lowered, TARGET, relax_pipeline=None, tir_pipeline=register())
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((1, 4, 4, 16), dtype=np.float32) for _ in range(INPUTS)]
    got = relax.VirtualMachine(executable, tvm.cpu())["main"](*map(tvm.runtime.tensor, xs)).numpy()
    np.testing.assert_array_equal(got, np.maximum(np.concatenate(xs, axis=3), 0))
