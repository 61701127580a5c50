"""Band-limited FFT convolutions lowered per layer: `project` (band-limit the input, then the dense conv) or `fft`.

The importers emit each band-limited conv (methods.md §4) as a call to a private function
tagged {"sedge.op": "FFTConv"} whose generic body runs the 2-D DFTs as matmuls with constant
cos / sin matrices on the input zero-padded to Hf x Wf, plus pads, concats and transposes.
For each call this pass asks the cost model (tvm_passes/fft_cost.py) and replaces the call:

- `project`: the exact spatial equivalent. The band mask is 0/1 and separable (a symmetric
  row set times a symmetric column set of the full spectrum), so
      irfft2(mask * X * conj(W)) = (P xp) (*) w,   P = IDFT diag(mask) DFT = P_H (x) P_W,
  a circular cross-correlation of the band-limited padded input with the *original* k x k
  filter. The cropped outputs read the band-limited input only inside its Hp x Wp window,
  where P_H restricted to the window's rows and the input's nonzero rows is a real Hp x H
  Toeplitz matrix (P_H[n, m] = sum over kept rows r of cos(2 pi r (n - m - p) / Hf) / Hf).
  So the layer is two small matmuls per image (z = A x B^T per channel, in NHWC: A on the
  rows of (H, W * C), B on the rows of (W, C) per output row), then the dense k x k conv with
  no padding and the layer's stride, on sedge's ordinary conv path (channels-last, packing,
  Winograd, schedules), then the bias. The weights stay the k x k filters: nothing is
  computed from them, A and B depend on shapes only.
- `fft`: the conv in the frequency domain, every transform pruned to what is needed. The
  input's forward transform reads only its H x W nonzero region (no pad) and computes only
  the kept band (its rows and its first columns): two matmuls with constant cos / sin
  matrices; the channel mixing is one batched matmul (kept, [Xr; Xi]: 2B, C) @ (kept, C,
  [Fr, Fi]: 2O) over the kept frequencies only; the inverse transform is evaluated only at the
  cropped, strided output rows and columns (two matmuls), then the bias. The filter spectra
  are a matmul of the k x k filters with a (2 kept, k^2) constant: weight-only, so
  `lift-params` moves it to `main_transform_params` (load time); only the kept band is stored.
  Its transforms are pruned DFTs as small dense matmuls, not butterflies: at these sizes (Hf =
  17 ... 65, not powers of two, about half of each axis kept) the matmuls run on the fast
  dense / batch-matmul schedules (docs/fft-conv.md has the measurements).

Where it does not apply (a symbolic shape, a dtype other than float32, a rectangular
kernel) the call is left to InlineConstructs, which gives it the generic body.
"""
import numpy as np
import tvm
from tvm import relax

from sedge.frontend.importers.construct import OP_ATTR
from sedge.tvm_passes.fft_cost import band_axes, fft_conv_choice, fft_geometry
from sedge.tvm_passes.passes import mutate_functions, static_shape

CONSTRUCT = "FFTConv"
LOWERING_ATTR = "sedge.lowering"  # lowering.py's mark on a call's construct function


def projection_matrix(n_fft: int, index: int, rows: int, n_in: int, offset: int) -> np.ndarray:
    """(rows x n_in) float64: the band-limiting projection along one axis, from the input's
    n_in nonzero positions (at offset `offset` of the padded axis) to padded positions 0..rows-1."""
    kept = band_axes(n_fft, n_fft, index)[0]
    d = np.arange(rows)[:, None] - (np.arange(n_in)[None, :] + offset)
    return np.cos(2 * np.pi * d[..., None] * kept / n_fft).sum(-1) / n_fft


def forward_matrices(n_fft: int, kept: np.ndarray, n_in: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) (len(kept) x n_in): the DFT along one axis at the kept frequencies, from the
    input's nonzero positions only (X[r] = sum_n x[n] (cos - i sin)(2 pi r (n + offset) / N))."""
    angle = 2 * np.pi * np.outer(kept, np.arange(n_in) + offset) / n_fft
    return np.cos(angle), np.sin(angle)


def _f32(m) -> relax.Expr:
    return relax.const(np.ascontiguousarray(m, dtype=np.float32))


@relax.expr_functor.mutator
class _LowerFFTConv(relax.PyExprMutator):
    def __init__(self, mod, target, choices=None):
        super().__init__(mod)
        self.mod, self.target = mod, target
        self.choices = choices  # None, or a forced choice for every layer (tests, benchmarks)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not isinstance(call.op, relax.GlobalVar):
            return call
        func = self.mod[call.op]
        if not isinstance(func, relax.Function) or func.attrs is None or func.attrs.get(OP_ATTR) != CONSTRUCT:
            return call
        lowered = self._lower(call, func.attrs)
        return call if lowered is None else lowered

    def _lower(self, call, attrs):
        x, weight = call.args[0], call.args[1]
        bias = call.args[2] if len(call.args) > 2 else None
        x_shape, w_shape = static_shape(x), static_shape(weight)
        if x_shape is None or w_shape is None or x.ty.dtype != "float32" or len(x_shape) != 4 \
                or w_shape[2] != w_shape[3]:
            return None
        batch, C, H, W = x_shape
        O, kernel = w_shape[0], w_shape[2]
        stride, padding, index = int(attrs["strides"][0]), int(attrs["pads"][0]), int(attrs["index"])
        # forced (tests, benchmarks), else as ChooseLowering marked the call (lowering.py), else the cost model
        choice = self.choices or attrs.get(LOWERING_ATTR) or fft_conv_choice(
            batch, C, O, H, W, kernel, stride, padding, index, self.target)[0]
        if choice == "project":
            y = self._project(x, weight, batch, C, H, W, kernel, stride, padding, index)
            return y if bias is None else relax.op.add(y, relax.op.reshape(bias, [1, O, 1, 1]))
        if choice == "fft":
            y = self._fft(x, weight, batch, C, O, H, W, kernel, stride, padding, index)
        elif choice == "spatial":
            y = self._spatial(x, weight, batch, C, O, H, W, kernel, stride, padding, index)
        else:
            return None
        if bias is not None:
            y = self.builder_.emit(relax.op.add(y, relax.op.reshape(bias, [1, 1, 1, O])))
        return relax.op.permute_dims(y, [0, 3, 1, 2])  # NHWC -> the construct's NCHW

    def _project(self, x, weight, batch, C, H, W, kernel, stride, padding, index):
        """NHWC: z = A x B^T per channel, then conv2d(z, w, stride, no padding), NCHW out."""
        emit, mm = self.builder_.emit, relax.op.matmul
        hf, wf = fft_geometry(H, W, kernel, padding)
        h_out, w_out = (H + 2 * padding - kernel) // stride + 1, (W + 2 * padding - kernel) // stride + 1
        rows, cols = (h_out - 1) * stride + kernel, (w_out - 1) * stride + kernel  # the window the conv reads
        a = projection_matrix(hf, index, rows, H, padding)
        b = projection_matrix(wf, index, cols, W, padding)
        xt = emit(relax.op.permute_dims(x, [0, 2, 3, 1]))                         # (B, H, W, C)
        t = emit(mm(_f32(a), emit(relax.op.reshape(xt, [batch, H, W * C]))))      # (B, rows, W * C)
        z = emit(mm(_f32(b), emit(relax.op.reshape(t, [batch * rows, W, C]))))    # (B * rows, cols, C)
        z = emit(relax.op.reshape(z, [batch, rows, cols, C]))
        # an NCHW conv, which ChannelsLast lays out with the convs around it (cancelling the
        # transposes on either side), so that the batch-norm and ReLU after the layer stay
        # channels-last: written NHWC, the layer ended in a permute to NCHW, and the ops
        # after it ran NCHW between two transposes (resnet56-fft-50's 54 layers)
        return emit(relax.op.nn.conv2d(emit(relax.op.permute_dims(z, [0, 3, 1, 2])), weight,
                                       strides=[stride, stride], padding=[0, 0]))

    def _spatial(self, x, weight, batch, C, O, H, W, kernel, stride, padding, index):
        """The layer as one dense matrix M (C H W, Ho Wo O) on the flattened input: M[c h w, i j o]
        = sum_ab w[o, c, a, b] A[i s + a, h] B[j s + b, w], the band-limited filter at every
        (output, input) offset. Weight-only (a matmul of the filters with a constant), so
        lift-params computes it at load. Ho Wo H W C O MACs: cheaper than the dense conv
        only where H W < k^2 (1 x 1 and 2 x 2 images)."""
        emit = self.builder_.emit
        hf, wf = fft_geometry(H, W, kernel, padding)
        h_out, w_out = (H + 2 * padding - kernel) // stride + 1, (W + 2 * padding - kernel) // stride + 1
        a = projection_matrix(hf, index, (h_out - 1) * stride + kernel, H, padding)
        b = projection_matrix(wf, index, (w_out - 1) * stride + kernel, W, padding)
        ta = np.stack([a[np.arange(h_out) * stride + t] for t in range(kernel)])   # (k, Ho, H)
        tb = np.stack([b[np.arange(w_out) * stride + t] for t in range(kernel)])   # (k, Wo, W)
        g = np.einsum("aih,bjw->hwijab", ta, tb).reshape(H * W * h_out * w_out, kernel * kernel)
        taps = emit(relax.op.reshape(relax.op.permute_dims(weight, [2, 3, 1, 0]), [kernel * kernel, C * O]))
        m = emit(relax.op.matmul(_f32(g), taps))                                   # (H W Ho Wo, C O)
        m = emit(relax.op.reshape(m, [H * W, h_out * w_out, C, O]))
        m = emit(relax.op.reshape(relax.op.permute_dims(m, [2, 0, 1, 3]), [C * H * W, h_out * w_out * O]))
        y = emit(relax.op.matmul(emit(relax.op.reshape(x, [batch, C * H * W])), m))
        return emit(relax.op.reshape(y, [batch, h_out, w_out, O]))

    def _fft(self, x, weight, batch, C, O, H, W, kernel, stride, padding, index):
        """NHWC, every transform pruned: forward over the nonzero input and the kept band,
        channel mixing per kept frequency, inverse at the cropped strided outputs only."""
        emit, mm = self.builder_.emit, relax.op.matmul
        hf, wf = fft_geometry(H, W, kernel, padding)
        band_rows, band_cols = band_axes(hf, wf, index)
        nr, nk = len(band_rows), len(band_cols)
        kept = nr * nk
        h_out, w_out = (H + 2 * padding - kernel) // stride + 1, (W + 2 * padding - kernel) // stride + 1
        if kept == 0:  # an empty band passes nothing but the bias: the projection is zero
            return self._project(x, weight, batch, C, H, W, kernel, stride, padding, index)
        # forward along H, then W: X[r, k] = sum_h sum_w x[h, w] e^{-i (th_r(h) + ph_k(w))}
        ch, sh = forward_matrices(hf, band_rows, H, padding)
        cw, sw = forward_matrices(wf, band_cols, W, padding)
        xt = emit(relax.op.permute_dims(x, [0, 2, 3, 1]))                                     # (B, H, W, C)
        xh = emit(mm(_f32(np.concatenate([ch, -sh])), emit(relax.op.reshape(xt, [batch, H, W * C]))))
        # (B, 2 nr, W, C) -> (B * 2 nr, W, C) @ [cw; sw] -> (B, 2 (re, im of xh), nr, 2 (cw, sw), nk, C)
        p = emit(mm(_f32(np.concatenate([cw, sw])), emit(relax.op.reshape(xh, [batch * 2 * nr, W, C]))))
        p = emit(relax.op.reshape(p, [batch, 2, nr, 2, nk, C]))

        def part(a, q):
            return relax.op.squeeze(relax.op.strided_slice(p, [1, 3], [a, q], [a + 1, q + 1]), [1, 3])
        # (xr + i xi)(cw - i sw): re = xr cw + xi sw, im = xi cw - xr sw; each (B, nr, nk, C)
        xr = emit(relax.op.add(part(0, 0), part(1, 1)))
        xi = emit(relax.op.subtract(part(1, 0), part(0, 1)))

        def by_frequency(v):  # (B, nr, nk, C) -> (kept, B, C)
            v = v if batch == 1 else emit(relax.op.permute_dims(v, [1, 2, 0, 3]))
            return relax.op.reshape(v, [kept, batch, C])
        inputs = emit(relax.op.concat([by_frequency(xr), by_frequency(xi)], axis=1))          # (kept, 2B, C)
        filters = emit(self._filter_spectra(weight, hf, wf, band_rows, band_cols, C, O, kernel))  # (kept, C, 2O)
        products = emit(mm(inputs, filters))                                                   # (kept, 2B, 2O)

        def prod(row, column):
            return relax.op.strided_slice(products, [1, 2], [row * batch, column * O],
                                          [(row + 1) * batch, (column + 1) * O])
        # X conj(F): re = Xr Fr + Xi Fi, im = Xi Fr - Xr Fi; stacked (2, nr, nk * B * O)
        yr = relax.op.add(prod(0, 0), prod(1, 1))
        yi = relax.op.subtract(prod(1, 0), prod(0, 1))
        y = emit(relax.op.reshape(emit(relax.op.concat([yr, yi], axis=0)), [2 * nr, nk * batch * O]))
        # inverse along H at the strided output rows: z = sum_r Y[r] e^{+i th_r(i)} / Hf
        out_rows, out_cols = np.arange(h_out) * stride, np.arange(w_out) * stride
        ih = 2 * np.pi * np.outer(out_rows, band_rows) / hf
        ich, ish = np.cos(ih) / hf, np.sin(ih) / hf
        inv_h = np.block([[ich, -ish], [ish, ich]])                                            # (2 Ho, 2 nr)
        z = emit(mm(_f32(inv_h), y))                                                           # (2 Ho, nk B O)
        z = emit(relax.op.reshape(z, [2, h_out, nk, batch * O]))
        # inverse along W (c2r: DC and Nyquist once, the others twice): re(z e^{+i ph}) summed over k
        weight_k = np.where((band_cols == 0) | ((wf % 2 == 0) & (band_cols == wf // 2)), 1.0, 2.0)[:, None]
        iw = 2 * np.pi * np.outer(band_cols, out_cols) / wf
        inv_w = np.stack([(weight_k * np.cos(iw) / wf).T, (-weight_k * np.sin(iw) / wf).T])[:, None]  # (2, 1, Wo, nk)
        out = emit(relax.op.sum(emit(mm(_f32(inv_w), z)), axis=[0]))                           # (Ho, Wo, B O)
        if batch == 1:  # (Ho, Wo, 1, O) is (1, Ho, Wo, O) in memory
            return emit(relax.op.reshape(out, [1, h_out, w_out, O]))
        return emit(relax.op.permute_dims(emit(relax.op.reshape(out, [h_out, w_out, batch, O])), [2, 0, 1, 3]))

    def _filter_spectra(self, weight, hf, wf, band_rows, band_cols, C, O, kernel):
        """(kept, C, [Fr, Fi]: 2O) from the (O, C, k, k) filters: one matmul with a constant
        (2 kept, k^2), weight-only (lift-params runs it at load)."""
        emit = self.builder_.emit
        a, b = np.meshgrid(np.arange(kernel), np.arange(kernel), indexing="ij")
        angle = 2 * np.pi * (np.multiply.outer(band_rows, a.ravel())[:, None, :] / hf
                             + np.multiply.outer(band_cols, b.ravel())[None, :, :] / wf)   # (nr, nk, k^2)
        kept = len(band_rows) * len(band_cols)
        basis = np.concatenate([np.cos(angle).reshape(kept, -1), -np.sin(angle).reshape(kept, -1)])
        taps = emit(relax.op.reshape(relax.op.permute_dims(weight, [2, 3, 1, 0]), [kernel * kernel, C * O]))
        spectra = emit(relax.op.matmul(_f32(basis), taps))                                    # (2 kept, C O)
        spectra = emit(relax.op.reshape(spectra, [2, kept, C, O]))
        return relax.op.reshape(relax.op.permute_dims(spectra, [1, 2, 0, 3]), [kept, C, 2 * O])


def fft_conv_lowering(target: tvm.target.Target, choice: str | None = None) -> tvm.transform.Pass:
    """The pass; `choice` forces one lowering on every layer (tests and benchmarks)."""
    @tvm.transform.module_pass(opt_level=0, name="LowerFFTConv")
    def apply(mod, _ctx):
        mutated = mutate_functions(_LowerFFTConv(mod, target, choice))
        return relax.transform.DeadCodeElimination()(mutated)

    return apply
