"""3x3 stride-1 convolutions as Winograd F(2x2, 3x3): 2.25x fewer multiplies.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016). Each 2x2
tile of outputs is computed from a 4x4 tile of inputs `d` as `A^T [(G g G^T) * (B^T d B)] A`:
the weights `g` are transformed once (`U = G g G^T`, a weight-only compute that
`lift-params` moves to load time), the inputs per tile (`V = B^T d B`, adds only), and the
16 elementwise products summed over input channels become 16 independent matrix products
`M[e, n] = V[e, n] @ U[e, n]` (tiles x C by C x K) that the register-blocked reduction
schedule runs at the dense-conv rate. The output transform (adds only) is an elementwise
compute, so the conv's bias, activation and residual add fuse into it.

The transforms have 0 / +-1 / +-1/2 coefficients, so the result differs from direct
convolution by rounding only (tests bound it at 1e-5 relative). The rewrite applies to
float32 channels-last convs with 3x3 kernels, stride and dilation 1, one group and an even
output size, where the image has enough tiles to amortise the transformed weights (16
matrices where direct convolution reads 9): below that, direct convolution stays.
"""
import numpy as np
import tvm
from tvm import relax, te, tirx, topi

from sedge.tvm_passes.passes import register_pass

# F(2x2, 3x3) (Lavin & Gray, eq. 7-8): output transform A^T, input transform B^T, weight G
A_T = ((1, 1, 1, 0), (0, 1, -1, -1))
B_T = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))
G = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))
ALPHA, TILE = 4, 2  # input and output tile sizes
# measured bounds for the rewrite to pay (an interleaved A/B of both builds of one conv):
# fewer output tiles than this and the 16 transformed weight matrices (against 9 for direct
# convolution) dominate; fewer input channels and the products' reductions are too short
# to amortise their register tiles (32x32x16: 3% slower, 12x12x24: 27% faster)
MIN_TILES = 32
MIN_CHANNELS = 24
# the names of the transform computes, by which schedules/winograd.py recognises them
INPUT, OUTPUT = "winograd_input", "winograd_output"
OPAQUE = 8  # relax's OpPatternKind.kOpaque: FuseOps fuses nothing into the kernel


def _transform(matrix_rows, reads):
    """sum over (i, j) of rows[a][i] * rows[b][j] * reads(i, j), for every (a, b), with the
    zero terms dropped: a dict (a, b) -> expression."""
    out = {}
    for a, row_a in enumerate(matrix_rows):
        for b, row_b in enumerate(matrix_rows):
            total = None
            for i, ca in enumerate(row_a):
                for j, cb in enumerate(row_b):
                    if ca * cb:
                        term = reads(i, j) if ca * cb == 1 else reads(i, j) * float(ca * cb)
                        total = term if total is None else total + term
            out[a, b] = total
    return out


def _select(index_a, index_b, exprs):
    """The expression of `exprs` at (index_a, index_b): a select chain that folds to one
    entry once the schedule unrolls both loops."""
    keys = sorted(exprs)
    result = exprs[keys[-1]]
    for a, b in reversed(keys[:-1]):
        result = tirx.Select(tirx.all(index_a == a, index_b == b), exprs[a, b], result)
    return result


def winograd_weight(w, ob):
    """U[e, n, k / ob, c, k % ob] = (G g G^T)[e, n] for HWIO weights `g`, packed per tile of
    `ob` output channels like PackConvWeights does."""
    _, _, channels, out_channels = (int(d) for d in w.shape)
    gm = topi.utils.const_matrix(np.array(G, dtype="float32"), "winograd_G")
    i, j = te.reduce_axis((0, 3), "i"), te.reduce_axis((0, 3), "j")
    return te.compute(
        (ALPHA, ALPHA, out_channels // ob, channels, ob),
        lambda e, n, t, c, o: te.sum(gm[e, i] * gm[n, j] * w[i, j, c, t * ob + o], axis=[i, j]),
        name="winograd_weight")


def _tiles(out_h, out_w):
    return out_h // TILE, out_w // TILE


def winograd_input(x, padding):
    """V[e, n, p, c] = (B^T d B)[e, n] of the 4x4 input tile `d` under output tile `p`."""
    batch, height, width, channels = (int(d) for d in x.shape)
    top, left, bottom, right = padding
    tiles_h, tiles_w = _tiles(height + top + bottom - 2, width + left + right - 2)
    if top or left or bottom or right:
        x = topi.nn.pad(x, [0, top, left, 0], [0, bottom, right, 0], name="pad_temp")

    def value(e, n, p, c):
        b, ty, tx = p // (tiles_h * tiles_w), p // tiles_w % tiles_h, p % tiles_w
        return _select(e, n, _transform(B_T, lambda i, j: x[b, ty * TILE + i, tx * TILE + j, c]))

    return te.compute((ALPHA, ALPHA, batch * tiles_h * tiles_w, channels), value, name=INPUT)


def winograd_product(v, u):
    """M[e, n, p, k] = sum over c of V[e, n, p, c] U[e, n, c, k]: 16 matrix products."""
    _, _, tiles, channels = (int(d) for d in v.shape)
    ob = int(u.shape[4])
    c = te.reduce_axis((0, channels), "c")
    return te.compute(
        (ALPHA, ALPHA, tiles, int(u.shape[2]) * ob),
        lambda e, n, p, k: te.sum(v[e, n, p, c] * u[e, n, k // ob, c, k % ob], axis=c),
        name="winograd_product")


def winograd_output(m, batch, out_h, out_w):
    """Y[b, h, w, k] = (A^T M A)[h % 2, w % 2] of the tile holding (h, w)."""
    tiles_h, tiles_w = _tiles(out_h, out_w)

    def value(b, h, w, k):
        p = (b * tiles_h + h // TILE) * tiles_w + w // TILE
        return _select(h % TILE, w % TILE, _transform(A_T, lambda i, j: m[i, j, p, k]))

    return te.compute((batch, out_h, out_w, int(m.shape[3])), value, name=OUTPUT)


def eligible(call) -> bool:
    """Whether `call` is a conv this rewrite computes exactly and faster."""
    attrs = call.attrs
    if (attrs.data_layout, attrs.kernel_layout, attrs.out_layout) != ("NHWC", "HWIO", "NHWC"):
        return False
    x, w = call.args
    if str(x.ty.dtype) != "float32" or str(w.ty.dtype) != "float32" or str(call.ty.dtype) != "float32":
        return False
    if any(not isinstance(d, tirx.IntImm) for d in (*x.ty.shape, *w.ty.shape)):
        return False
    kh, kw, channels, _ = (int(d) for d in w.ty.shape)
    if (kh, kw) != (3, 3) or int(attrs.groups) != 1 or channels < MIN_CHANNELS:
        return False
    if any(int(s) != 1 for s in (*attrs.strides, *attrs.dilation)):
        return False
    batch, out_h, out_w, _ = (int(d) for d in call.ty.shape)
    if out_h % TILE or out_w % TILE:
        return False
    tiles_h, tiles_w = _tiles(out_h, out_w)
    return batch * tiles_h * tiles_w >= MIN_TILES


@relax.expr_functor.mutator
class _Winograd(relax.PyExprMutator):
    def __init__(self, mod, spec, tile_shape):
        super().__init__(mod)
        self.spec, self.tile_shape = spec, tile_shape

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if call.op != tvm.ir.Op.get("relax.nn.conv2d") or not eligible(call):
            return call
        x, w = call.args
        batch, out_h, out_w, out_channels = (int(d) for d in call.ty.shape)
        channels = int(w.ty.shape[2])
        tiles_h, tiles_w = _tiles(out_h, out_w)
        # pack U per tile of output channels the product's schedule keeps in registers
        vec, o_vectors, _ = self.tile_shape(batch * tiles_h * tiles_w, out_channels, channels, self.spec)
        u = self.builder_.emit(self.builder_.call_te(winograd_weight, w, vec * o_vectors,
                                                     primfunc_name_hint="winograd_weight"))
        # opaque to FuseOps: fused after the previous conv's elementwise epilogue, that
        # epilogue would be recomputed for each of the 16 values every input feeds
        v = self.builder_.emit(self.builder_.call_te(
            winograd_input, x, [int(p) for p in call.attrs.padding], primfunc_name_hint=INPUT,
            primfunc_attrs={"op_pattern": OPAQUE}))
        m = self.builder_.emit(self.builder_.call_te(winograd_product, v, u,
                                                     primfunc_name_hint="winograd_product"))
        return self.builder_.call_te(winograd_output, m, batch, out_h, out_w, primfunc_name_hint=OUTPUT)


@register_pass("WinogradConv")
def winograd_conv(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="WinogradConv")
    def rewrite(mod, _ctx):
        # the schedules import the pipeline, which imports this registry: import them late
        from sedge.tvm_passes.schedules.cpu import cpu_spec
        from sedge.tvm_passes.schedules.reduction import tile_shape

        if target.kind.name != "llvm":
            return mod
        rewriter = _Winograd(mod, cpu_spec(target), tile_shape)
        for gv, func in mod.functions.items():
            if isinstance(func, relax.Function):
                rewriter.builder_.update_func(gv, rewriter.visit_expr(func))
        return rewriter.builder_.get()

    return rewrite
