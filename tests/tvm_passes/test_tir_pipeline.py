"""sedge's TIR pipeline (tir_pipeline.py): the scheduled kernels simplified while their loops
are fresh, so a concat's partitioned pieces each read their one input before TVM's lowering."""
import numpy as np
import tvm
from tvm import relax, tirx

from sedge.tvm_passes.pipeline import sedge_pipeline
from sedge.tvm_passes.target import host_target, parse_target
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


def _pointwise_conv():
    """A 1x1 conv from 192 to 1152 channels at 7x7 (MnasNet's): on AVX-512 its register tile is
    3 vectors x 7 columns, 21 accumulators, 1344 bytes: a "local" buffer over TVM's 1 KiB."""
    weight = np.random.default_rng(0).standard_normal((1152, 192, 1, 1), dtype=np.float32) / 14
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 192, 7, 7), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.relu(relax.op.nn.conv2d(x, relax.const(weight))))
        bb.emit_func_output(out)
    return bb.get(), weight


def _llvm_ir(target, tir_pipeline):
    mod, _ = _pointwise_conv()
    with target, tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None, tir_pipeline=tir_pipeline)
    return "\n".join(m.inspect_source("ll") for m in executable.mod.imports if m.kind == "llvm")


def test_a_large_accumulator_tile_stays_on_the_stack():
    """Structural: the 1344-byte accumulator tile is an alloca, not a heap workspace allocated,
    zeroed and freed around every tile (what TVM's own pipeline makes of it)."""
    avx512 = tvm.target.Target(parse_target("llvm -mcpu=skylake-avx512"))
    assert "TVMBackendAllocWorkspace" not in _llvm_ir(avx512, register())
    assert "TVMBackendAllocWorkspace" in _llvm_ir(avx512, "s_tir")


def test_the_stacked_tile_computes_the_same():
    mod, weight = _pointwise_conv()
    with TARGET, tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(TARGET)(mod), TARGET, relax_pipeline=None, tir_pipeline=register())
    x = np.random.default_rng(1).standard_normal((1, 192, 7, 7), dtype=np.float32)
    got = relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    want = np.maximum(np.einsum("oc,nchw->nohw", weight[:, :, 0, 0], x), 0)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
