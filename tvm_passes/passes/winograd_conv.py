"""3x3 and 2x2 stride-1 convolutions as Winograd F(m x m, r x r), m = 4 or 2: 2.25x-4x fewer multiplies.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (CVPR 2016). Each m x m
tile of outputs of an r x r kernel is computed from an (m + r - 1)^2 tile of inputs `d` as
`A^T [(G g G^T) * (B^T d B)] A`: the weights `g` are transformed once (`U = G g G^T`, a
weight-only compute that `lift-params` moves to load time), the inputs per tile
(`V = B^T d B`), and the elementwise products summed over input channels become one
independent matrix product per position in the input tile, `M[e, n] = V[e, n] @ U[e, n]`
(tiles x C by C x K), that the register-blocked reduction schedule runs at the dense-conv
rate. The output transform is an elementwise compute, so the conv's bias, activation and
residual add fuse into it.

The larger tile is taken where it divides the output: 4x fewer multiplies and less
memory traffic (36 matrices per 16 outputs rather than 16 per 4). Its coefficients reach
8 and 1/24, so its results differ from direct convolution by about 1e-5 relative (F(2x2):
1e-6, its coefficients are 0, +-1, +-1/2), inside the 1e-4 every lowering is held to. The
2x2 kernels are the small convs of structured layers (sum-pool + 2x2 conv, methods.md §1):
F(4x4, 2x2) multiplies 25 times per 16 outputs where direct convolution multiplies 64. The
rewrite applies to float32 channels-last convs with 3x3 or 2x2 kernels, stride and dilation 1,
one group and an output size the tile divides, where the image has enough tiles to
amortise the transformed weights: elsewhere direct convolution stays.
"""
import numpy as np
import tvm
from tvm import relax, te, tirx, topi

from sedge.tvm_passes.kernels import OPAQUE
from sedge.tvm_passes.kernels.sum_pool import SUM_POOL_ATTR
from sedge.tvm_passes.passes import TeCalls, bound_value, op_name, rewrite_for_cpu

# the transforms' block names and annotations (holding the output tile size), by which
# schedules/winograd.py recognises them
from sedge.tvm_passes.schedules.winograd import INPUT, OUTPUT

# F(m x m, 3x3) for output tiles m = 2 and 4 (Lavin & Gray, sections 4.1-4.2): output
# transform A^T (m x a), input transform B^T (a x a), weight transform G (a x 3), a = m + 2
MATRICES_3X3 = {
    2: (((1, 1, 1, 0), (0, 1, -1, -1)),
        ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
        ((1, 0, 0), (1 / 2, 1 / 2, 1 / 2), (1 / 2, -1 / 2, 1 / 2), (0, 0, 1))),
    4: (((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1)),
        ((4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0),
         (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1)),
        ((1 / 4, 0, 0), (-1 / 6, -1 / 6, -1 / 6), (-1 / 6, 1 / 6, -1 / 6), (1 / 24, 1 / 12, 1 / 6),
         (1 / 24, -1 / 12, 1 / 6), (0, 0, 1))),
}
# F(m x m, 2x2), a = m + 1: the small convs structured layers leave (Struct-ResNet-A's n = 2
# after the sum-pool; methods.md §1). Toom-Cook at the points 0, 1 (m = 2) and 0, 1, -1, 2
# (m = 4), with infinity: G's rows are the points' powers over the products of their
# differences, B^T solves A^T [(G g) * (B^T d)] = the correlation of d and g exactly.
# 2.25x (F(4x4): 25 products for 16 outputs of 4 each: 2.56x) fewer multiplies.
MATRICES_2X2 = {
    2: (((1, 1, 0), (0, 1, 1)),
        ((-1, 1, 0), (0, 1, 0), (0, -1, 1)),
        ((-1, 0), (1, 1), (0, 1))),
    4: (((1, 1, 1, 1, 0), (0, 1, -1, 2, 0), (0, 1, 1, 4, 0), (0, 1, -1, 8, 1)),
        ((2, -1, -2, 1, 0), (0, -2, -1, 1, 0), (0, 2, -3, 1, 0), (0, -1, 0, 1, 0), (0, 2, -1, -2, 1)),
        ((1 / 2, 0), (-1 / 2, -1 / 2), (-1 / 6, 1 / 6), (1 / 6, 1 / 3), (0, 1))),
}
# kernel size r -> {output tile m: (A^T, B^T, G)}
MATRICES = {3: MATRICES_3X3, 2: MATRICES_2X2}
# measured bounds for the rewrite to pay (interleaved A/Bs of both builds of a conv, and
# of models): the product streams the transformed weights ((m+2)^2 matrices, against 9
# for direct convolution) once per inference, which only enough output tiles amortise when
# they do not stay in the L2 (wrn-40-2's 8x8x128 convs: slower with 4 tiles and 2.4 MB;
# resnet56's 8x8x64: faster with 4 tiles and 0.6 MB); and with fewer input channels the
# products' reductions are too short to amortise their register tiles (32x32x16: 3%
# slower, 12x12x24: 27% faster)
MIN_TILES = 32
MIN_CHANNELS = 24


def _dot(coefficients, values):
    """sum of coefficient * value with the zero coefficients dropped (both Python lists)."""
    total = None
    for coefficient, value in zip(coefficients, values):
        if isinstance(coefficient, (int, float)) and coefficient == 0:
            continue
        term = value if isinstance(coefficient, (int, float)) and coefficient == 1 else value * coefficient
        total = term if total is None else total + term
    return total


def _select(index, exprs):
    """exprs[index] for a loop variable `index`: a select chain, folded to one entry once
    the schedule unrolls the loop."""
    result = exprs[-1]
    for position in range(len(exprs) - 2, -1, -1):
        result = tirx.Select(index == position, exprs[position], result)
    return result


def _transform(rows, index_a, index_b, reads):
    """(R X R^T)[a, b] = R[b] . (R[a] @ X) for X[i, j] = reads(i, j), at the loop variables
    (index_a, index_b), folded to constant coefficients once the schedule unrolls both
    loops. The inner sums R[a] @ X are let-bound, so each is built once and every b's entry
    of the select chain refers to it: written out in every entry, or as one chain over all
    (a, b), they made the unrolled body (m+2)^2 times larger and took TVM's simplifier
    seconds per kernel. Zero coefficients of R[b] are dropped."""
    size = len(rows[0])
    row_a = [_select(index_a, [tirx.const(float(row[i]), "float32") for row in rows]) for i in range(size)]
    inner = [tirx.Var(f"inner{j}", "float32") for j in range(size)]
    result = _select(index_b, [_dot([float(c) for c in row], inner) for row in rows])
    for j in reversed(range(size)):
        result = tirx.Let(inner[j], _dot(row_a, [reads(i, j) for i in range(size)]), result)
    return result


def winograd_weight(w, ob, tile):
    """U[e, n, k / ob, c, k % ob] = (G g G^T)[e, n] for HWIO weights `g` (r x r), packed per
    tile of `ob` output channels like PackConvWeights does."""
    r, _, channels, out_channels = (int(d) for d in w.shape)
    gm = topi.utils.const_matrix(np.array(MATRICES[r][tile][2], dtype="float32"), "winograd_G")
    i, j = te.reduce_axis((0, r), "i"), te.reduce_axis((0, r), "j")
    return te.compute(
        (tile + r - 1, tile + r - 1, out_channels // ob, channels, ob),
        lambda e, n, t, c, o: te.sum(gm[e, i] * gm[n, j] * w[i, j, c, t * ob + o], axis=[i, j]),
        name="winograd_weight")


def pooled_rows(rows, window: int):
    """B^T S for the k x k box sum S (a x (a + k - 1), S[i, j] = 1 for i <= j < i + k) of a
    sum-pool before the conv: (B^T S) d' (B^T S)^T transforms the un-pooled (a + k - 1)^2
    tile d' as B^T d B transforms its pooled tile d = S d' S^T. Integer sums of B^T's entries."""
    size = len(rows[0])
    return tuple(tuple(sum(row[i] for i in range(max(0, j - window + 1), min(size, j + 1)))
                       for j in range(size + window - 1)) for row in rows)


def winograd_input(x, padding, tile, r=3, pool_window=1):
    """V[e, n, p, c] = (B^T d B)[e, n] of the input tile `d` under output tile `p`, for an
    r x r kernel; with `pool_window` k > 1, of the k x k stride-1 sum-pool of `x` (a
    structured conv's; `padding` is then the pool's), folded into the transform (pooled_rows)
    so that the pooled tensor is never computed."""
    batch, height, width, channels = (int(d) for d in x.shape)
    top, left, bottom, right = padding
    reach = r + pool_window - 2  # the input rows an output row reads, beyond its own
    tiles_h, tiles_w = (height + top + bottom - reach) // tile, (width + left + right - reach) // tile
    rows = MATRICES[r][tile][1] if pool_window == 1 else pooled_rows(MATRICES[r][tile][1], pool_window)
    if top or left or bottom or right:
        x = topi.nn.pad(x, [0, top, left, 0], [0, bottom, right, 0], name="pad_temp")

    def value(e, n, p, c):
        b, ty, tx = p // (tiles_h * tiles_w), p // tiles_w % tiles_h, p % tiles_w
        return _transform(rows, e, n, lambda i, j: x[b, ty * tile + i, tx * tile + j, c])

    return te.compute((tile + r - 1, tile + r - 1, batch * tiles_h * tiles_w, channels), value, name=INPUT,
                      attrs={INPUT: tile})


def winograd_product(v, u):
    """M[e, n, p, k] = sum over c of V[e, n, p, c] U[e, n, c, k]: one matrix product per
    position in the input tile."""
    alpha, _, tiles, channels = (int(d) for d in v.shape)
    ob = int(u.shape[4])
    c = te.reduce_axis((0, channels), "c")
    return te.compute(
        (alpha, alpha, tiles, int(u.shape[2]) * ob),
        lambda e, n, p, k: te.sum(v[e, n, p, c] * u[e, n, k // ob, c, k % ob], axis=c),
        name="winograd_product")


def winograd_output(m, batch, out_h, out_w, r=3):
    """Y[b, h, w, k] = (A^T M A)[h % tile, w % tile] of the tile holding (h, w), r x r kernel."""
    tile = int(m.shape[0]) - r + 1
    tiles_h, tiles_w = out_h // tile, out_w // tile

    def value(b, h, w, k):
        p = (b * tiles_h + h // tile) * tiles_w + w // tile
        return _transform(MATRICES[r][tile][0], h % tile, w % tile, lambda i, j: m[i, j, p, k])

    return te.compute((batch, out_h, out_w, int(m.shape[3])), value, name=OUTPUT, attrs={OUTPUT: tile})


def tile_size(call, cache_bytes: int) -> int | None:
    """The output tile F(m x m, r x r) computes `call` with, or None where the rewrite does not
    apply or pay (winograd_tile)."""
    attrs = call.attrs
    if (attrs.data_layout, attrs.kernel_layout, attrs.out_layout) != ("NHWC", "HWIO", "NHWC"):
        return None
    x, w = call.args
    if str(x.ty.dtype) != "float32" or str(w.ty.dtype) != "float32" or str(call.ty.dtype) != "float32":
        return None
    if any(not isinstance(d, tirx.IntImm) for d in (*x.ty.shape, *w.ty.shape)):
        return None
    kh, kw, channels, out_channels = (int(d) for d in w.ty.shape)
    batch, out_h, out_w, _ = (int(d) for d in call.ty.shape)
    strided = any(int(s) != 1 for s in (*attrs.strides, *attrs.dilation))
    return winograd_tile(batch, out_h, out_w, channels, out_channels, (kh, kw), int(attrs.groups), strided,
                         cache_bytes)


def winograd_tile(batch: int, out_h: int, out_w: int, channels: int, out_channels: int, kernel: tuple,
                  groups: int, strided: bool, cache_bytes: int) -> int | None:
    """The output tile m of F(m x m, r x r) for a float32 conv of this geometry, or None where
    the rewrite does not apply or pay: the larger tile that divides the output and either
    leaves enough tiles or keeps its transformed weights within `cache_bytes` (the L2). A
    pure function of numbers, so that cost models (structured_cost.py) ask it too."""
    r = kernel[0]
    if kernel[1] != r or r not in MATRICES or groups != 1 or channels < MIN_CHANNELS or strided:
        return None
    for tile in sorted(MATRICES[r], reverse=True):
        if out_h % tile or out_w % tile:
            continue
        tiles = batch * (out_h // tile) * (out_w // tile)
        weight_bytes = (tile + r - 1) ** 2 * channels * out_channels * 4
        if tiles >= MIN_TILES or weight_bytes <= cache_bytes:
            return tile
    return None


@relax.expr_functor.mutator
class _Winograd(relax.PyExprMutator):
    def __init__(self, mod, spec, tile_shape):
        super().__init__(mod)
        self.spec, self.tile_shape = spec, tile_shape
        self.te_calls = TeCalls(self.builder_)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) != "relax.nn.conv2d":
            return call
        tile = tile_size(call, self.spec.l2_bytes)
        if tile is None:
            return call
        x, w = call.args
        batch, out_h, out_w, out_channels = (int(d) for d in call.ty.shape)
        tiles = batch * (out_h // tile) * (out_w // tile)
        # pack U per tile of output channels the product's schedule keeps in registers
        vec, o_vectors, _ = self.tile_shape(tiles, out_channels, int(w.ty.shape[2]), self.spec)
        emit, call_te = self.builder_.emit, self.te_calls
        u = emit(call_te(winograd_weight, w, vec * o_vectors, tile, primfunc_name_hint="winograd_weight"))
        # opaque to FuseOps: fused after the previous conv's elementwise epilogue, that
        # epilogue would be recomputed for each of the values every input feeds
        r = int(w.ty.shape[0])
        padding, window = [int(p) for p in call.attrs.padding], 1
        pool = self._spatial_sum_pool(x)
        if pool is not None and not any(padding):  # a structured conv's pool, folded into the transform
            x, padding, window = pool
        v = emit(call_te(winograd_input, x, padding, tile, r, window,
                         primfunc_name_hint=INPUT, primfunc_attrs={"op_pattern": OPAQUE}))
        m = emit(call_te(winograd_product, v, u, primfunc_name_hint="winograd_product"))
        return call_te(winograd_output, m, batch, out_h, out_w, r, primfunc_name_hint=OUTPUT)


    def _spatial_sum_pool(self, x):
        """(input, padding, window) when `x` is the add-only sum-pool of a structured conv
        (kernels/sum_pool.py) over a spatial window only (no channel window), at dilation 1."""
        value = bound_value(self, x)
        if op_name(value) != "relax.call_tir" or not isinstance(value.args[0], relax.GlobalVar):
            return None
        func = self.builder_.get()[value.args[0]]
        pool = func.attrs.get(SUM_POOL_ATTR) if isinstance(func, tirx.PrimFunc) and func.attrs else None
        if pool is None or int(pool["channel_window"]) != 1 or any(int(d) != 1 for d in pool["dilation"]):
            return None
        return value.args[1].fields[0], [int(p) for p in pool["pads"]], int(pool["window"])


def winograd_conv(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="WinogradConv")
    def rewrite(mod, _ctx):
        return rewrite_for_cpu(mod, target, _Winograd)

    return rewrite
