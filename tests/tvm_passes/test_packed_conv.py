"""Conv weights packed per output-channel tile: the packing runs at load time, not per inference."""
import tvm
from tvm import relax

from sedge.tvm_passes.passes import PASSES
from sedge.tvm_passes.target import host_target


def _deep_conv():
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 64, 7, 7), "float32"))
    w = relax.Var("w", relax.TensorType((256, 64, 3, 3), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.conv2d(x, w, padding=1))
        bb.emit_func_output(out)
    return bb.get()


def test_weights_are_packed_once_at_load_time():
    target = tvm.target.Target(host_target())
    mod = _deep_conv()
    with target:
        for factory in PASSES.values():
            mod = factory(target)(mod)
        mod = relax.transform.LiftTransformParams()(mod)
    main, load_time = mod["main"].script(), mod["main_transform_params"].script()
    assert "R.nn.conv2d" not in main and "conv2d" in main, "the conv reads packed weights"
    assert "layout_transform" not in main and "layout_transform" in load_time
    packed = [p for p in mod["main"].params[1:]][0]
    assert len(packed.ty.shape) == 5 and int(packed.ty.shape[0]) > 1, "(O/ob, KH, KW, I, ob) with several tiles"
