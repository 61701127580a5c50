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
- `fft`: the conv in the frequency domain, every transform a pruned FFT (kernels/fft_conv.py,
  one transform per SIMD lane, mixed radix with Rader's algorithm for the method's prime
  sizes): forward along W then H from the input's H x W nonzero region (no pad) to the kept
  band only; the channel mixing as one batched matmul (kept, [Xr; Xi]: 2B, C) @ (kept, C,
  [Fr, Fi]: 2O) over the kept frequencies; inverse along H then W at the cropped, strided
  outputs only, the bias added by the last pass. The filter spectra (times the inverse's
  1 / (Hf Wf)) are a matmul of the k x k filters with a (2 kept, k^2) constant:
  weight-only, so `lift-params` moves it to `main_transform_params` (load time); only the
  kept band is stored. On a GPU the same kernels run a transform per thread.

Where it does not apply (a symbolic shape, a dtype other than float32, a rectangular
kernel) the call is left to InlineConstructs, which gives it the generic body.
"""
import numpy as np
import tvm
from tvm import relax

from sedge.frontend.importers.construct import OP_ATTR
from sedge.tvm_passes.fft_cost import band_axes, fft_conv_choice, fft_geometry
from sedge.tvm_passes.kernels import fft_conv as fft_kernels
from sedge.tvm_passes.kernels.lane_programs import GPU_LANES
from sedge.tvm_passes.passes import mutate_functions, static_shape
from sedge.tvm_passes.schedules.cpu import cpu_spec

CONSTRUCT = "FFTConv"
LOWERING_ATTR = "sedge.lowering"  # lowering.py's mark on a call's construct function


def projection_matrix(n_fft: int, index: int, rows: int, n_in: int, offset: int) -> np.ndarray:
    """(rows x n_in) float64: the band-limiting projection along one axis, from the input's
    n_in nonzero positions (at offset `offset` of the padded axis) to padded positions 0..rows-1."""
    kept = band_axes(n_fft, n_fft, index)[0]
    d = np.arange(rows)[:, None] - (np.arange(n_in)[None, :] + offset)
    return np.cos(2 * np.pi * d[..., None] * kept / n_fft).sum(-1) / n_fft


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
        hf, wf = fft_geometry(H, W, kernel, padding)
        if choice == "fft" and not all(len(a) for a in band_axes(hf, wf, index)):
            choice = "project"  # an empty band passes nothing but the bias: the projection is zero
        if choice == "project":
            y = self._project(x, weight, batch, C, H, W, kernel, stride, padding, index)
            return y if bias is None else relax.op.add(y, relax.op.reshape(bias, [1, O, 1, 1]))
        if choice == "fft":  # the bias is added by its last pass
            y = self._fft(x, weight, bias, batch, C, O, H, W, kernel, stride, padding, index)
        elif choice == "spatial":
            y = self._spatial(x, weight, batch, C, O, H, W, kernel, stride, padding, index)
            if bias is not None:
                y = self.builder_.emit(relax.op.add(y, relax.op.reshape(bias, [1, 1, 1, O])))
        else:
            return None
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

    def _fft(self, x, weight, bias, batch, C, O, H, W, kernel, stride, padding, index):
        """NHWC, every transform a pruned FFT (kernels/fft_conv.py): forward over the nonzero
        input to the kept band, channel mixing per kept frequency, inverse at the cropped
        strided outputs only, the bias added by the last pass."""
        emit = self.builder_.emit
        hf, wf = fft_geometry(H, W, kernel, padding)
        band_rows, band_cols = band_axes(hf, wf, index)
        nr, nk = len(band_rows), len(band_cols)
        h_out, w_out = (H + 2 * padding - kernel) // stride + 1, (W + 2 * padding - kernel) // stride + 1
        gpu = self.target.kind.name != "llvm"
        lanes = GPU_LANES if gpu else cpu_spec(self.target).lanes
        # the kernels' programs are cached by their arguments (kernels/fft_program.py): tuples
        rows = tuple(int(r) for r in band_rows)
        out_rows, out_cols = tuple(range(0, h_out * stride, stride)), tuple(range(0, w_out * stride, stride))

        def call(name, func, args, shape):
            return emit(relax.call_tir(self.builder_.add_func(func, name), args, relax.TensorType(shape, "float32")))
        xt = emit(relax.op.permute_dims(x, [0, 2, 3, 1]))                                     # (B, H, W, C)
        t = call("fft_forward_w", fft_kernels.forward_w_func(batch, H, W, C, wf, padding, nk, lanes, gpu), [xt],
                 (batch, H, 2, nk, C))
        spectra = call("fft_forward_h", fft_kernels.forward_h_func(batch, H, C, hf, padding, rows, nk, lanes, gpu),
                       [t], (nr * nk, 2 * batch, C))
        filters = emit(self._filter_spectra(weight, hf, wf, band_rows, band_cols, C, O, kernel))  # (kept, C, 2O)
        products = emit(relax.op.matmul(spectra, filters))                                    # (kept, 2B, 2O)
        u = call("fft_inverse_h", fft_kernels.inverse_h_func(batch, O, hf, rows, nk, out_rows, lanes, gpu),
                 [products], (batch, h_out, 2, nk, O))
        func = fft_kernels.inverse_w_func(batch, O, wf, nk, h_out, out_cols, lanes, bias is not None, gpu)
        return call("fft_inverse_w", func, [u] + ([bias] if bias is not None else []), (batch, h_out, w_out, O))

    def _filter_spectra(self, weight, hf, wf, band_rows, band_cols, C, O, kernel):
        """(kept, C, [Fr, Fi]: 2O) from the (O, C, k, k) filters, times the inverse's 1 / (Hf Wf):
        one matmul with a constant (2 kept, k^2), weight-only (lift-params runs it at load)."""
        emit = self.builder_.emit
        a, b = np.meshgrid(np.arange(kernel), np.arange(kernel), indexing="ij")
        angle = 2 * np.pi * (np.multiply.outer(band_rows, a.ravel())[:, None, :] / hf
                             + np.multiply.outer(band_cols, b.ravel())[None, :, :] / wf)   # (nr, nk, k^2)
        kept = len(band_rows) * len(band_cols)
        basis = np.concatenate([np.cos(angle).reshape(kept, -1), -np.sin(angle).reshape(kept, -1)]) / (hf * wf)
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
