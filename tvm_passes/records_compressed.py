"""Layer records of the compressed constructs (frontend/importers: functions tagged "sedge.op").

Each record counts what the compressed layer needs in its compressed form, which is what the
hardware models compare against the dense layer it replaces (attrs["dense_weight_bytes"],
and attrs["dense_macs"] where the compute differs). Where a family has several lowerings
(lowering.py), layer_records then replaces the MACs, adds and weight bytes with those of
the lowering chosen for the target, so that a record counts what the deployed kernel does:
- StructuredConv: MACs of the small conv; the sum-pool as additions only (direct count: each
  pooled value sums its window, volume - 1 adds); weights alpha.
- SumPool: additions only.
- ACDC: 4N + 5N log2 N mult-adds per factor and vector (a fast DCT, methods.md §2); the
  lowering then counts what runs: `fold` the dense matrix, `factored` on the batched DCT
  kernel its multiplies and adds as its TIR holds them (sedge/fast_dct.py stack_ops).
- CSGConv: the generated conv's MACs; weight_bytes = the layer's codes (+ bias); the generator
  is a shared weight {"csg_generator": bytes}, counted once per network by the cost models.
- FFTConv: 4 real MACs per kept complex coefficient per (input, output) channel pair (the FFTs
  are not counted); weight_bytes = the kept filter spectra (real + imaginary) + bias. The
  lowering then counts what runs (fft_cost.py): `fft` adds its butterflies' adds and
  multiplies as their programs hold them (kernels/fft_program.py), `project` is the
  projection and the dense conv.
"""
import math

from sedge.contract import dtype_bytes
from sedge.fast_dct import fast_dct_macs
from sedge.registry import Registry
from sedge.tvm_passes.call_info import CallInfo

# a compressed construct's `sedge.op` attribute -> its recorder (layer_records.py looks here)
COMPRESSED_RECORDERS = Registry("compressed layer recorder")
register_recorder = COMPRESSED_RECORDERS.register


def _sum_pool_adds(batch, in_channels, height, width, c, n, kernel, pads, dilations, group):
    window = kernel - n + 1
    pooled_h = height + pads[0] + pads[2] - dilations[0] * (window - 1)
    pooled_w = width + pads[1] + pads[3] - dilations[1] * (window - 1)
    volume = (in_channels // group - c + 1) * window * window
    return batch * group * c * pooled_h * pooled_w * (volume - 1)


def _adds_of(info: CallInfo):
    a = info.attrs
    batch, channels, height, width = info.input_shapes[0]
    return _sum_pool_adds(batch, channels, height, width, a["c"], a["n"], a["kernel_size"], a["pads"],
                          a["dilations"], a["group"])


@register_recorder("StructuredConv")
def _structured_conv(info: CallInfo):
    a = info.attrs
    dense = a["out_channels"] * a["in_channels"] // a["group"] * a["kernel_size"] ** 2
    dense_macs = math.prod(info.output_shape) * a["in_channels"] // a["group"] * a["kernel_size"] ** 2
    return info.record("structured_conv", macs=math.prod(info.output_shape) * a["c"] * a["n"] ** 2,
                       adds=_adds_of(info), attrs={**a, "dense_weight_bytes": dense * dtype_bytes(info.dtype),
                                                   "dense_macs": dense_macs})


@register_recorder("SumPool")
def _sum_pool(info: CallInfo):
    return info.record("sum_pool", adds=_adds_of(info))


@register_recorder("ACDC")
def _acdc(info: CallInfo):
    a = info.attrs
    N, factors = a["n"], a["factors"]
    vectors = math.prod(info.input_shapes[0]) // N
    macs = vectors * factors * fast_dct_macs(N)
    return info.record("acdc", macs=macs, attrs={**a, "dense_weight_bytes": N * N * dtype_bytes(info.dtype),
                                                  "dense_macs": vectors * N * N})


@register_recorder("CSGConv")
def _csg_conv(info: CallInfo):
    a = info.attrs
    size = dtype_bytes(info.dtype)
    codes, generator = info.weight_shapes[0], info.weight_shapes[1]
    bias = info.weight_shapes[2] if len(info.weight_shapes) > 2 else [0]
    dense = a["out_channels"] * a["in_channels"] * 9
    return info.record("csg_conv", macs=math.prod(info.output_shape) * a["in_channels"] * 9,
                       weight_bytes=(math.prod(codes) + math.prod(bias)) * size,
                       shared_weights={"csg_generator": math.prod(generator) * size},
                       attrs={**a, "dense_weight_bytes": dense * size})


def kept_coefficients(fft_shape, index) -> int:
    """Coefficients of the one-sided Hf x (Wf/2+1) spectrum inside the band of `index` (-1: all)."""
    hf, wf = fft_shape
    cols = wf // 2 + 1
    if index < 0:
        return hf * cols
    return min(hf, 2 * index - 1) * min(cols, index) if index > 0 else 0


@register_recorder("FFTConv")
def _fft_conv(info: CallInfo):
    a = info.attrs
    size = dtype_bytes(info.dtype)
    kept = kept_coefficients(a["fft_shape"], a["index"])
    pairs = a["out_channels"] * a["in_channels"]
    batch = info.input_shapes[0][0]
    bias = a["out_channels"] if len(info.weight_shapes) > 1 else 0
    return info.record("fft_conv", macs=4 * batch * pairs * kept, weight_bytes=(2 * pairs * kept + bias) * size,
                       attrs={**a, "kept_coefficients": kept,
                              "dense_weight_bytes": pairs * a["kernel_size"] ** 2 * size})
