"""LowerStructuredConv: each StructuredConv construct marked `sumpool+conv` becomes an add-only
sum-pool kernel (channels-last, separable, running-sum channel window) followed by its small
conv; one marked `fold` becomes the dense conv of alpha folded at load time."""
import re

import pytest
import torch
import tvm
from compiled_models import HOST, imported, rel_err, run_compiled, scheduled_kernels
from tvm import relax, tirx

from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear
from sedge.tvm_passes.kernels.sum_pool import KERNEL_NAME, OPAQUE
from sedge.tvm_passes.lowering import choose_lowering, with_overrides
from sedge.tvm_passes.passes.structured_conv import FOLD, FOLD_KERNEL, SUM_POOL, structured_conv
from sedge.tvm_passes.pipeline import phases

RTOL = 1e-4


def forced(mod, choice):
    """`mod` with every structured layer forced to `choice` (as `--lowering all=CHOICE`)."""
    return with_overrides(mod, {"all": choice})


def lowered(mod, target=HOST):
    """ChooseLowering then LowerStructuredConv, as the recipe runs them."""
    with target:
        return structured_conv(target)(choose_lowering(target)(mod))


# C, O, N, c, n, stride, padding, dilation, groups
SHAPES = [
    (8, 6, 3, 8, 2, 1, 1, 1, 1),    # Struct-ResNet-A: c = C, n = 2 (2x2 sum-pool)
    (8, 6, 3, 5, 2, 2, 1, 2, 1),    # channel window c < C, stride 2, dilation 2
    (11, 8, 1, 4, 1, 1, 0, 1, 1),   # 1x1: channel sliding sum only (Struct-MV2-B), a 4-lane scan,
                                    # the first window's last vector masked (kc - 1 = 7)
    (7, 5, 1, 3, 1, 1, 0, 1, 1),    # 3 outputs: a 2-lane step, then a scalar one
    (8, 8, 3, 1, 2, 2, 1, 1, 8),    # depthwise, c = 1 per group, stride 2
    (8, 4, 5, 2, 3, 3, 2, 1, 2),    # grouped, 5x5, channel and spatial windows
    (6, 6, 3, 6, 1, 1, 1, 1, 1),    # n = 1: a 3x3 sum-pool, padding 1
    (4, 5, 3, 3, 2, 1, 0, 1, 1),    # no padding
    (6, 4, 3, 2, 2, 1, 3, 3, 1),    # padding wider than the window's reach, dilation 3
    (8, 6, 3, 8, 2, 1, 2, 2, 1),    # a 2x2 spatial window summed directly, padding 2, dilation 2
    (8, 6, 3, 8, 2, 1, 0, 1, 1),    # the same unpadded
]


@pytest.mark.parametrize("C,O,N,c,n,stride,padding,dilation,groups", SHAPES)
def test_sum_pool_and_small_conv_match_pytorch(tmp_path, C, O, N, c, n, stride, padding, dilation, groups):
    torch.manual_seed(0)
    layer = StructuredConv2d(C, O, N, c, n, stride, padding, dilation, groups)
    x = torch.randn(2, C, 9, 7)  # batch 2, non-square
    mod, params = imported(layer, x, tmp_path)
    want = layer.eval()(x).detach().numpy()
    for choice, kernel in ((SUM_POOL, KERNEL_NAME), (FOLD, FOLD_KERNEL)):
        assert kernel in scheduled_kernels(forced(mod, choice), HOST), f"the pass lowered the layer as {choice}"
        got = run_compiled(forced(mod, choice), HOST, [x.numpy()], params)
        assert got.shape == want.shape
        assert rel_err(got, want) < RTOL, choice


def test_structured_linear_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    layer = StructuredLinear(24, 7, c=9)
    x = torch.randn(2, 24)
    mod, params = imported(layer, x, tmp_path)
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer.eval()(x).detach().numpy()) < RTOL


def _llvm_ir(func: tirx.PrimFunc) -> str:
    """The LLVM IR the kernel compiles to (TVM 0.27 has no Python TIR visitor to walk it)."""
    exported = func.with_attr("global_symbol", "main")  # a kernel of a Relax module is private
    return tvm.compile(tvm.IRModule({"main": exported}), target=HOST).mod.inspect_source("ll")


def _rewritten(mod):
    with HOST, tvm.transform.PassContext(opt_level=3):
        for name in ("import-cleanup", "rewrite"):
            mod = tvm.transform.Sequential(phases(HOST)[name])(mod)
    return mod


def _convs(mod):
    return [b.value for block in mod["main"].body.blocks for b in block.bindings
            if isinstance(b.value, relax.Call) and b.value.op == tvm.ir.Op.get("relax.nn.conv2d")]


@pytest.mark.parametrize("C,O,N,c,n,groups", [(16, 8, 3, 16, 2, 1), (16, 8, 1, 6, 1, 1), (8, 8, 3, 1, 2, 8)])
def test_sum_pool_is_add_only_and_no_zero_one_conv_is_left(tmp_path, C, O, N, c, n, groups):
    layer = StructuredConv2d(C, O, N, c, n, padding=N // 2, groups=groups)
    mod, _ = imported(layer, torch.randn(1, C, 8, 8), tmp_path)
    mod = forced(mod, SUM_POOL)
    kernels = scheduled_kernels(mod, HOST)
    pool = kernels[KERNEL_NAME]
    ir = _llvm_ir(pool)
    assert "fmul" not in ir and "fadd" in ir, "the sum-pool adds and never multiplies"
    assert re.search(r"fadd <\d+ x float>", ir), "it adds channels a vector at a time"
    assert "T.parallel" in pool.script(), "its rows run in parallel"
    # the only conv left is the small one, on alpha: no all-ones depthwise conv, no band GEMM
    convs = _convs(_rewritten(mod))
    assert len(convs) == 1
    assert not isinstance(convs[0].args[1], tvm.ir.expr.Constant)
    # alpha (O, c, n, n), laid out HWIO by channels-last
    assert [int(d) for d in convs[0].args[1].ty.shape] == [n, n, c, O], "the small conv's weight is alpha"


def test_the_channel_scan_runs_a_vector_of_channels_at_a_time(tmp_path):
    """The channel window's running sum takes a vector of outputs per step (shuffled adds
    within it, a carry across), not one scalar add, two loads and a store per channel."""
    layer = StructuredConv2d(64, 8, 1, 20, 1)
    mod, _ = imported(layer, torch.randn(1, 64, 4, 4), tmp_path)
    pool = scheduled_kernels(forced(mod, SUM_POOL), HOST)[KERNEL_NAME]
    assert "T.Shuffle" in pool.script(), "the in-vector prefix"
    ir = _llvm_ir(pool)
    assert "fmul" not in ir
    assert "shufflevector" in ir and re.search(r"fadd <(\d+) x float>", ir), "vector adds"
    assert not re.search(r"fadd float", ir), "no scalar add is left"
    # the zeros the shifts bring in are an input (scan_zeros), not a constant LLVM would turn
    # into zero-masked expands: each shuffle reads two non-constant vectors
    assert len(pool.params) == 3, "x, the scan's zeros, y"
    shifts = re.findall(r"shufflevector <\d+ x float> (\S+), <\d+ x float> %\S+,", ir)
    assert shifts and all(fill.startswith("%") for fill in shifts), shifts


def test_the_pass_replaces_the_construct_call_precisely(tmp_path):
    layer = StructuredConv2d(8, 6, 3, 5, 2, stride=2, padding=1, dilation=2)
    x = torch.randn(2, 8, 9, 7)
    mod, _ = imported(layer, x, tmp_path)
    after = lowered(forced(mod, SUM_POOL))
    assert not any(OP_ATTR in (f.attrs or {}) for f in after.functions.values() if isinstance(f, relax.Function)), \
        "the construct function is gone"
    calls = [b.value for block in after["main"].body.blocks for b in block.bindings
             if isinstance(b.value, relax.Call)]
    ops = [c.op.name if isinstance(c.op, tvm.ir.Op) else str(c.op) for c in calls]
    assert ops == ["relax.permute_dims", "relax.call_tir", "relax.nn.conv2d", "relax.reshape", "relax.add"]
    transpose, pool, conv = calls[:3]
    assert [int(a) for a in transpose.attrs.axes] == [0, 2, 3, 1]
    assert transpose.args[0].same_as(after["main"].params[0])
    # the pool: stride 1, the layer's padding 1 and dilation 2 over the window 2; c = 5 channels
    assert pool.args[0].name_hint == KERNEL_NAME
    assert [int(d) for d in pool.ty.shape] == [2, 9 + 2 - 2, 7 + 2 - 2, 5]
    kernel = after[pool.args[0]]
    assert bool(kernel.attrs["tirx.is_scheduled"]) and int(kernel.attrs["op_pattern"]) == OPAQUE
    # the small conv: padding 0, the layer's stride and dilation, on alpha
    attrs = conv.attrs
    assert (attrs.data_layout, attrs.kernel_layout, attrs.out_layout) == ("NHWC", "OIHW", "NCHW")
    assert [int(p) for p in attrs.padding] == [0, 0, 0, 0]
    assert [int(s) for s in attrs.strides] == [2, 2] and [int(d) for d in attrs.dilation] == [2, 2]
    assert conv.args[1].same_as(after["main"].params[1]) and int(attrs.groups) == 1
    assert [int(d) for d in conv.ty.shape] == list(layer.eval()(x).shape) == [2, 6, 4, 3]


def test_layers_marked_generic_keep_their_generic_body(tmp_path):
    # c = C and n = N with no padding: nothing to pool, the one option is the conv itself
    layer = StructuredConv2d(4, 4, 3, 4, 3)
    mod, _ = imported(layer, torch.randn(1, 4, 6, 6), tmp_path)
    after = lowered(mod)
    assert not any(gv.name_hint == KERNEL_NAME for gv in after.functions)
    # forced generic: the call and its construct stay for InlineConstructs
    layer = StructuredConv2d(8, 8, 3, 8, 2, padding=1)
    mod, _ = imported(layer, torch.randn(1, 8, 6, 6), tmp_path)
    after = lowered(forced(mod, "generic"))
    assert [f.attrs["sedge.lowering"] for f in after.functions.values()
            if isinstance(f, relax.Function) and OP_ATTR in (f.attrs or {})] == ["generic"]


def test_gpus_have_no_sum_pool_kernel_and_fold_instead(tmp_path):
    layer = StructuredConv2d(96, 8, 1, 72, 1)  # a wide channel window: sumpool+conv on a CPU
    mod, _ = imported(layer, torch.randn(1, 96, 4, 4), tmp_path)
    cuda = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})
    after = lowered(mod, cuda)
    assert not any(gv.name_hint == KERNEL_NAME for gv in after.functions)
    assert any(gv.name_hint == FOLD_KERNEL for gv in after.functions)


def test_the_fold_kernel_matches_the_layers_dense_weight(tmp_path):
    """fold_alpha is W = A alpha: methods.md's worked example and a grouped, channel-window case."""
    import numpy as np
    from tvm import te

    from sedge.tvm_passes.passes.structured_conv import fold_alpha

    for C, O, N, c, n, groups in ((1, 1, 3, 1, 2, 1), (12, 6, 3, 5, 2, 2), (8, 8, 3, 1, 2, 8)):
        layer = StructuredConv2d(C, O, N, c, n, groups=groups)
        if (C, N, c, n) == (1, 3, 1, 2):
            layer.alpha.data = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
        alpha = te.placeholder(tuple(layer.alpha.shape), "float32", "alpha")
        func = te.create_prim_func([alpha, fold_alpha(alpha, C // groups, N)])
        built = tvm.compile(tvm.IRModule({"main": func}), target=HOST)
        out = tvm.runtime.tensor(np.zeros((O, C // groups, N, N), "float32"))
        built["main"](tvm.runtime.tensor(layer.alpha.detach().numpy()), out)
        np.testing.assert_allclose(out.numpy(), layer.dense_weight().detach().numpy(), rtol=1e-5, atol=1e-7)
        if (C, N, c, n) == (1, 3, 1, 2):
            assert out.numpy()[0, 0].tolist() == [[1, 3, 2], [4, 10, 6], [3, 7, 4]]


@pytest.mark.parametrize("C,H", [(32, 16), (32, 10)])  # F(4x4, 2x2) on 16x16, F(2x2, 2x2) on 10x10
def test_a_spatial_pool_folds_into_the_winograd_small_conv(tmp_path, C, H):
    """Struct-ResNet-A's 2x2 pool before its 2x2 conv: the Winograd input transform reads the
    un-pooled tile through B^T S (winograd_conv.pooled_rows), so no sum-pool kernel runs and
    the pooled tensor is never written."""
    torch.manual_seed(0)
    layer = StructuredConv2d(C, 48, 3, C, 2, padding=1)
    x = torch.randn(1, C, H, H)
    mod, params = imported(layer, x, tmp_path)
    mod = forced(mod, SUM_POOL)
    kernels = scheduled_kernels(mod, HOST)
    assert KERNEL_NAME not in kernels and "winograd_input" in kernels
    assert not any("conv2d" in name for name in kernels), "no dense 3x3 conv left"
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer.eval()(x).detach().numpy()) < RTOL


def test_pooled_rows_compose_the_box_sum_into_the_transform():
    import numpy as np

    from sedge.tvm_passes.passes.winograd_conv import MATRICES, pooled_rows

    b_t = np.array(MATRICES[2][4][1], dtype=float)
    window = np.array([[1.0 if i <= j < i + 2 else 0.0 for j in range(6)] for i in range(5)])
    assert np.array_equal(np.array(pooled_rows(MATRICES[2][4][1], 2)), b_t @ window)
