"""Winograd F(m x m, 3x3) and F(m x m, 2x2) convolutions, m = 4 or 2: numerics against PyTorch, applied
where they pay, fused and scheduled as claimed (passes/winograd_conv.py, schedules/winograd.py)."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import AVX2, HOST, run_compiled, scheduled_kernels
from test_schedules import _conv_block, _loop_chain
from tvm import relax, tirx
from tvm.script import ir as I
from tvm.script import relax as R

from sedge.tvm_passes.passes.winograd_conv import (
    MATRICES,
    OPAQUE,
    winograd_conv,
    winograd_input,
    winograd_output,
    winograd_product,
    winograd_weight,
)
from sedge.tvm_passes.pipeline import REWRITE, phases

RTOL = 1e-4  # max |sedge - torch| / max |torch|, as for every lowering

CASES = {  # name: (input NCHW, out channels, padding), each one the rewrite takes
    # channels no multiple of the vector width, batch 2, a non-square image: F(2x2)
    "odd channels batch 2": ((2, 24, 10, 14), 40, 1),
    "unpadded": ((1, 32, 18, 14), 24, 0),  # 16x12 out, 12 4x4 tiles: F(2x2)
    "residual": ((1, 32, 16, 16), 32, 1),
    "4x4 tiles": ((2, 24, 16, 20), 40, 1),
    "4x4 then 2x2 tiles unpadded": ((1, 32, 34, 34), 24, 0),  # 32x32 out, then 30x30
}


def _two_convs(x_shape, out_channels, padding, residual):
    """conv -> +bias -> relu -> conv -> +bias (-> +x) -> relu: the first conv's output
    transform feeds the second's input transform inside the channels-last region."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    w1 = relax.Var("w1", relax.TensorType((out_channels, x_shape[1], 3, 3), "float32"))
    w2 = relax.Var("w2", relax.TensorType((out_channels, out_channels, 3, 3), "float32"))
    b = relax.Var("b", relax.TensorType((1, out_channels, 1, 1), "float32"))
    with bb.function("main", [x, w1, w2, b], {"num_input": 1}):
        with bb.dataflow():
            y = relax.op.nn.relu(relax.op.add(relax.op.nn.conv2d(x, w1, padding=padding), b))
            y = relax.op.add(relax.op.nn.conv2d(y, w2, padding=padding), b)
            out = bb.emit_output(relax.op.nn.relu(relax.op.add(y, x) if residual else y))
        bb.emit_func_output(out)
    return bb.get()


@pytest.mark.parametrize("target", [HOST, AVX2], ids=["host", "avx2"])
@pytest.mark.parametrize("name", list(CASES))
def test_winograd_matches_direct_convolution(name, target):
    shape, out_channels, padding = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w1 = rng.standard_normal((out_channels, shape[1], 3, 3), dtype=np.float32)
    w2 = rng.standard_normal((out_channels, out_channels, 3, 3), dtype=np.float32) / 8
    b = rng.standard_normal((1, out_channels, 1, 1), dtype=np.float32)
    residual = "residual" in name
    mod = _two_convs(shape, out_channels, padding, residual)
    names = list(scheduled_kernels(mod, target))
    assert any("winograd_product" in n for n in names) and not any("conv2d" in n for n in names), "the rewrite applies"
    got = run_compiled(mod, target, [x], [w1, w2, b])
    t = {k: torch.tensor(v) for k, v in dict(x=x, w1=w1, w2=w2, b=b).items()}
    y = torch.relu(torch.nn.functional.conv2d(t["x"], t["w1"], padding=padding) + t["b"])
    y = torch.nn.functional.conv2d(y, t["w2"], padding=padding) + t["b"]
    want = torch.relu(y + t["x"] if residual else y).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_an_nchw_output_is_transformed_per_tile_then_transposed():
    """The model's NCHW output fuses its transpose into the last output transform: the
    transform still runs once per tile (its positions unrolled), into a channels-last
    buffer that is then transposed in tiles; inlined into the transpose, every output
    recomputed its tile (0.9 ms instead of 0.06 ms at 56x56x64). Numerics: the CASES above,
    whose outputs are all NCHW."""
    funcs = scheduled_kernels(_two_convs((1, 32, 16, 16), 32, 1, residual=False), HOST)
    (output,) = [f for name, f in funcs.items() if "winograd_output" in name and "transpose" in name]
    sch = tvm.s_tir.Schedule(output)
    transform, transpose = sch.get_child_blocks(sch.get_sblock("root"))[-2:]
    assert [int(d) for d in sch.get(transform).writes[0].source.shape] == [1, 16, 16, 32]
    assert tirx.ForKind.UNROLLED in {sch.get(loop).kind for loop in sch.get_loops(transform)}
    assert _loop_chain(output)[-2:] == [(tirx.ForKind.SERIAL, 16), (tirx.ForKind.VECTORIZED, 16)]


def test_an_output_reshaped_into_groups_is_transformed_per_tile_then_laid_out():
    """A group norm reshapes the conv's NCHW output into groups: the transpose back and the
    reshape follow the output transform in one kernel. The transform still writes each tile
    once, channels-last, and each layout block then runs on its own; inlined into the
    reshape, every output recomputed its tile (1.41 ms instead of 0.13 ms for 56x56x64)."""
    shape, channels, groups = (1, 32, 16, 16), 32, 4
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(shape, "float32"))
    w = relax.Var("w", relax.TensorType((channels, shape[1], 3, 3), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            conv = bb.emit(relax.op.nn.conv2d(x, w, padding=1))
            out = bb.emit_output(relax.op.reshape(conv, (1, groups, channels // groups * 16 * 16)))
        bb.emit_func_output(out)
    mod = bb.get()
    (output,) = [f for name, f in scheduled_kernels(mod, HOST).items() if "winograd_output" in name]
    sch = tvm.s_tir.Schedule(output)
    transform, *layout = sch.get_child_blocks(sch.get_sblock("root"))
    assert [int(d) for d in sch.get(transform).writes[0].source.shape] == [1, 16, 16, 32]
    assert tirx.ForKind.UNROLLED in {sch.get(loop).kind for loop in sch.get_loops(transform)}
    assert [[int(d) for d in sch.get(b).writes[0].source.shape] for b in layout] == [[1, 32, 16, 16], [1, 4, 2048]]
    rng = np.random.default_rng(5)
    xs = rng.standard_normal(shape, dtype=np.float32)
    ws = rng.standard_normal((channels, shape[1], 3, 3), dtype=np.float32)
    want = torch.nn.functional.conv2d(torch.tensor(xs), torch.tensor(ws), padding=1).reshape(1, groups, -1).numpy()
    got = run_compiled(mod, HOST, [xs], [ws])
    assert got.shape == want.shape and np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


@pytest.mark.parametrize("r,tile", [(r, tile) for r in MATRICES for tile in sorted(MATRICES[r])])
def test_transform_matrices_compute_a_correlation(r, tile):
    """A^T [(G g G^T) * (B^T d B)] A is the m x m valid correlation of an (m+r-1)^2 tile d with
    the r x r kernel g."""
    rng = np.random.default_rng(2)
    d, g = rng.standard_normal((tile + r - 1, tile + r - 1)), rng.standard_normal((r, r))
    a_t, b_t, gm = (np.array(m) for m in MATRICES[r][tile])
    got = a_t @ ((gm @ g @ gm.T) * (b_t @ d @ b_t.T)) @ a_t.T
    want = [[np.sum(d[i:i + r, j:j + r] * g) for j in range(tile)] for i in range(tile)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape, out_channels, alpha", [
    ((1, 32, 32, 32), 32, 6),  # 64 4x4 tiles
    ((1, 32, 8, 8), 32, 6),  # 4 4x4 tiles, but the 36 transformed matrices (147 KB) stay in the L2
    ((1, 256, 16, 16), 64, 4),  # 16 4x4 tiles and 2.4 MB of matrices: 64 2x2 tiles instead
    ((1, 32, 18, 18), 32, 4),  # 4 does not divide 18
])
def test_the_larger_tile_is_taken_where_it_divides_and_pays(x_shape, out_channels, alpha):
    funcs = scheduled_kernels(_conv_block(x_shape, (out_channels, x_shape[1], 3, 3), 1, 1, 1, residual=False), HOST)
    (product,) = [f for name, f in funcs.items() if name.startswith("winograd_product")]
    assert int(product.params[0].shape[0]) == alpha, "one matrix product per position in the (m + 2)^2 input tile"


def test_weights_are_transformed_once_at_load_time():
    mod = _conv_block((1, 32, 16, 16), (32, 32, 3, 3), 1, 1, 1, residual=False)
    with HOST:
        for factory in REWRITE:
            mod = factory(HOST)(mod)
        mod = relax.transform.LiftTransformParams()(mod)
    assert "winograd_weight" not in mod["main"].script()
    assert "winograd_weight" in mod["main_transform_params"].script()


@pytest.mark.parametrize("name, x_shape, w_shape, stride, groups", [
    ("stride 2", (1, 32, 16, 16), (32, 32, 3, 3), 2, 1),
    ("odd output", (1, 32, 15, 15), (32, 32, 3, 3), 1, 1),
    ("few channels", (1, 16, 32, 32), (16, 16, 3, 3), 1, 1),
    ("few tiles, weights beyond the L2", (1, 256, 8, 8), (256, 256, 3, 3), 1, 1),
    ("5x5", (1, 32, 16, 16), (32, 32, 5, 5), 1, 1),
    ("grouped", (1, 32, 16, 16), (32, 16, 3, 3), 1, 2),
])
def test_direct_convolution_stays_where_winograd_does_not_apply_or_pay(name, x_shape, w_shape, stride, groups):
    mod = _conv_block(x_shape, w_shape, stride, w_shape[-1] // 2, groups, residual=False)
    names = list(scheduled_kernels(mod, HOST))
    assert any("conv2d" in n for n in names) and not any("winograd" in n for n in names), name


def test_disabled_pass_keeps_direct_convolution():
    """`sedge compile --disabled-pass WinogradConv` (TVM's PassContext) turns the rewrite off."""
    mod = _two_convs((1, 32, 16, 16), 32, 1, residual=False)
    with HOST, tvm.transform.PassContext(opt_level=3, disabled_pass=["WinogradConv"]):
        script = tvm.transform.Sequential(phases(HOST)["rewrite"])(mod).script()
    assert "conv2d" in script and "winograd" not in script


# Structural: Before / Expected, the pass run on its own under a fixed CPU target


CPU = tvm.target.Target({"kind": "llvm", "mcpu": "skylake-avx512"})  # 16 lanes


def _winograd(mod):
    with CPU:
        return winograd_conv(CPU)(mod)


def test_structural_3x3_conv_becomes_the_four_winograd_kernels():
    """A channels-last 3x3 conv on 32x32 -> weight transform, input transform (opaque to
    FuseOps), the 36 matrix products, output transform; F(4x4): 64 tiles, at least MIN_TILES,
    so the choice does not depend on the machine's L2. 16 output channels are one 16-lane
    vector: U is packed in one tile of 16."""

    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 32, 32, 24), "float32"),
                 w: R.Tensor((3, 3, 24, 16), "float32")) -> R.Tensor((1, 32, 32, 16), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[1, 1, 1, 1], data_layout="NHWC", kernel_layout="HWIO")
                R.output(y)
            return y

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 32, 32, 24), "float32"))
    w = relax.Var("w", relax.TensorType((3, 3, 24, 16), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            u = bb.emit(bb.call_te(winograd_weight, w, 16, 4, primfunc_name_hint="winograd_weight"))
            v = bb.emit(bb.call_te(winograd_input, x, [1, 1, 1, 1], 4, primfunc_name_hint="winograd_input",
                                   primfunc_attrs={"op_pattern": OPAQUE}))
            m = bb.emit(bb.call_te(winograd_product, v, u, primfunc_name_hint="winograd_product"))
            y = bb.emit_output(bb.call_te(winograd_output, m, 1, 32, 32, primfunc_name_hint="winograd_output"))
        bb.emit_func_output(y)
    expected = bb.get()
    assert [int(d) for d in expected["main"].body.blocks[0].bindings[2].value.ty.shape] == [6, 6, 64, 16]

    tvm.ir.assert_structural_equal(_winograd(Before), expected)


@pytest.mark.parametrize("kernel", [1, 5])
def test_structural_conv_that_is_not_3x3_or_2x2_is_left_unchanged(kernel):
    @I.ir_module
    class Before:
        @R.function
        def main(x: R.Tensor((1, 32, 32, 24), "float32"),
                 w: R.Tensor((kernel, kernel, 24, 16), "float32")) -> R.Tensor((1, 32, 32, 16), "float32"):
            R.func_attr({"num_input": 1})
            with R.dataflow():
                y = R.nn.conv2d(x, w, padding=[kernel // 2] * 4, data_layout="NHWC", kernel_layout="HWIO")
                R.output(y)
            return y

    tvm.ir.assert_structural_equal(_winograd(Before), Before)


@pytest.mark.parametrize("shape,out_channels,tiles", [
    ((1, 32, 17, 17), 48, 16),  # 16x16 out: F(4x4, 2x2), a 5x5 input tile
    ((2, 24, 11, 15), 40, 9),  # 10x14 out, batch 2: F(2x2, 2x2), a 3x3 input tile
])
def test_a_2x2_conv_matches_direct_convolution(shape, out_channels, tiles):
    """The structured layers' small 2x2 convs (padding 0 after the sum-pool) as Winograd."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((out_channels, shape[1], 2, 2), dtype=np.float32)
    b = rng.standard_normal((1, out_channels, 1, 1), dtype=np.float32)
    mod = _conv_block(shape, w.shape, 1, 0, 1, residual=False)
    funcs = scheduled_kernels(mod, HOST)
    (product,) = [f for name, f in funcs.items() if name.startswith("winograd_product")]
    assert int(product.params[0].shape[0]) == (4 if shape[2] == 17 else 2) + 1, "(m + 1)^2 products"
    assert not any("conv2d" in n for n in funcs)
    got = run_compiled(mod, HOST, [x], [w, b])
    want = torch.relu(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w)) + torch.tensor(b)).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))
