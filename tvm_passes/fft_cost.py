"""The per-layer lowering choice of a band-limited FFT conv (methods.md §4): `project`, `fft`, `spatial` or `generic`.

Pure functions of the layer's shapes, attributes and the target, asked by the LowerFFTConv
pass (passes/fft_conv.py), which acts on the answer, and meant for the layer records and the
per-layer lowering mechanism, which record it. Every option computes the same function
(the band mask is 0/1, so X * conj(mask W) * mask = mask X * conj(W)):

- `project`: the input band-limited in the space domain, z = A x B^T per channel (A: the
  row projection restricted to the conv's Hp-row window and the H nonzero input rows, B the
  same for columns), then the dense k x k conv (no padding, the layer's stride) on sedge's
  conv path. MACs: C (rows H W + rows cols W) per image for the projection, plus the dense
  conv's Ho Wo C O k^2. Weights: the k x k filters.
- `fft`: pruned FFTs (the nonzero input in, the kept band only, the cropped strided outputs
  out; kernels/fft_conv.py, their adds and multiplies counted from their programs) around the
  channel mixing as a complex multiply-accumulate over the kept frequencies: 4 kept C O real
  MACs per image. Weights: the kept band of the filter
  spectra, 2 kept C O floats (the spectra of a k x k filter are kept / k^2 * 2 times its size:
  at batch 1 the mixing streams them once per image, a batched GEMV).
- `spatial`: the cross-correlation of the zero-padded input with the band-limited filter
  w' = irfft2(mask * rfft2(w)), a full Hf x Wf circular filter: every output reads every
  nonzero input. Run as one dense (C H W) x (Ho Wo O) matrix computed from the filters at
  load: Ho Wo H W C O MACs and as many weights. Cheaper than `project` only where H W < k^2
  (1 x 1, 2 x 2 images), never at the zoo's shapes.
- `generic`: the importer's body (passes/inline_constructs.py): DFT matmuls on the input
  padded to Hf x Wf, the band's spectra, the mixing, the pruned inverse.

Time per option is a sum of rooflines, max(MACs / rate, weight bytes / bandwidth), with the
rate of the kernel kind that runs each part: dense conv, projection matmuls, butterflies, the
mixing's batched matmul (rows = 2 x batch: GEMV-like, bandwidth-bound at batch 1). The
constants are this host's, measured per layer (docs/fft-conv.md).
"""
import numpy as np

from sedge.tvm_passes.kernels.fft_program import butterfly_counts
from sedge.tvm_passes.passes.winograd_conv import winograd_tile
from sedge.tvm_passes.schedules.cpu import DEFAULT_L2_BYTES, cache_bytes

# The rates are this host's (2-core Intel VM, AVX-512, 2 threads), refitted on a quiet machine
# (docs/fft-conv.md: benchmarks.kernels and benchmarks.fft_conv --batch 1 / 8 / 16). The
# first fit, taken under a load of 3-7, had put the dense conv at 60 MACs/ns and the mixing
# at 30: the choice was right at batch 1 and wrong at 7x7x512 batch 8 and 14x14x256 batch 16.
# sedge's direct conv, MACs per ns (resnet18's 7x7x512: 124 at batch 1, 147-149 at 8-16)
DIRECT_MACS_PER_NS = 140.0
# a Winograd conv's products per ns, its transforms included (resnet18's stages: 70-100)
WINOGRAD_PRODUCTS_PER_NS = 85.0
# the projection's matmuls, (rows x H) @ (H, W C) with K = H = 8 ... 56 (measured 30-38)
PROJECTION_MACS_PER_NS = 32.0
# the generic body's DFT matmuls, with the pads, strided slices and concats between them
TRANSFORM_MACS_PER_NS = 15.0
# the `fft` form's butterflies: real adds and multiplies per ns, one transform per SIMD lane
# (kernels/fft_conv.py; fitted below, docs/fft-conv.md)
BUTTERFLY_OPS_PER_NS = 33.0
# the mixing's batched matmul, (kept, 2B, C) @ (kept, C, 2O), once its 2B rows fill
# MIX_FULL_ROWS (7x7x512 at batch 16: 72; at batch 8, 16 rows, ~59)
MIX_MACS_PER_NS = 72.0
MIX_FULL_ROWS = 20
# weight bytes per ns streamed from DRAM (the spectra of resnet18's 7x7x512 layer, 94 MB per
# inference: ~14 GB/s at batch 8), and from the L2 where they fit there (the memory floor
# kernel of benchmarks.kernels: 77 GB/s)
DRAM_BYTES_PER_NS = 14.0
CACHE_BYTES_PER_NS = 77.0
# elementwise adds (re / im combinations, bias), per ns
ADDS_PER_NS = 8.0
OPTIONS = ("project", "fft", "spatial", "generic")


def band_axes(hf: int, wf: int, index: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the one-sided Hf x (Wf/2+1) spectrum inside the band of `index`
    (rows 0..idx-1 and Hf-idx+1..Hf-1, columns 0..idx-1; -1: everything). Called with
    (N, N, index), its rows are the symmetric set of one axis of length N."""
    r, k = np.arange(hf), np.arange(wf // 2 + 1)
    if index < 0:
        return r, k
    return r[(r < index) | (r >= hf - index + 1)], k[k < index]


def fft_geometry(H: int, W: int, kernel: int, padding: int) -> tuple[int, int]:
    """(Hf, Wf), as frontend/layers/fft.py's (without torch)."""
    def size(n):
        out = n + 2 * padding - kernel + 1
        return n + 2 * padding + max(out, kernel) - 1
    return size(H), size(W)


def _cache(target) -> int | None:
    """The L2 share the target's kernels work in; None for a target that is no CPU."""
    if target is None:
        return DEFAULT_L2_BYTES
    return cache_bytes(target) if target.kind.name == "llvm" else None


def _stream_ns(weight_bytes: int, cache: int | None) -> float:
    fits = cache is not None and weight_bytes <= cache
    return weight_bytes / (CACHE_BYTES_PER_NS if fits else DRAM_BYTES_PER_NS)


def _dense_conv_ns(macs: int, batch: int, channels: int, out_channels: int, out_h: int, out_w: int, kernel: int,
                   stride: int, cache: int | None) -> float:
    """The dense k x k conv of `project` as the recipe runs it: Winograd F(m x m, k x k) where
    WinogradConv takes it on a CPU ((m + k - 1)^2 products per m^2 outputs, against k^2), else direct."""
    tile = None if cache is None else winograd_tile(batch, out_h, out_w, channels, out_channels, (kernel, kernel), 1,
                                                   stride != 1, cache)
    if tile is None:
        return macs / DIRECT_MACS_PER_NS
    return macs * (tile + kernel - 1) ** 2 / (kernel * tile) ** 2 / WINOGRAD_PRODUCTS_PER_NS


def _mixing(batch: int, kept: int, channels: int, out_channels: int, cache: int | None,
            dtype_bytes: int) -> tuple[int, int, float]:
    """(MACs, spectra bytes, ns) of the channel mixing, (kept, 2B, C) @ (kept, C, 2O): compute
    at the matmul's rate, scaled down while its 2B rows do not fill the register tile, or
    the spectra streamed once per inference, whichever is slower."""
    macs = 4 * batch * kept * channels * out_channels
    spectra = 2 * kept * channels * out_channels * dtype_bytes
    rows_fill = min(1.0, 2 * batch / MIX_FULL_ROWS)  # at batch 1, 2 rows: a batched GEMV
    return macs, spectra, max(macs / (MIX_MACS_PER_NS * rows_fill), _stream_ns(spectra, cache))


def fft_conv_costs(batch: int, in_channels: int, out_channels: int, height: int, width: int, kernel: int,
                   stride: int, padding: int, index: int, target=None, dtype_bytes: int = 4) -> dict:
    """{option: (macs, adds, weight_bytes, ns)} of one band-limited conv, per inference.

    batch, in/out_channels, height x width: the input (B, C, H, W); kernel, stride, padding,
    index: the layer's attributes (index: the band's idx, -1 keeps everything). `target`
    (None: a CPU like this host) tells whether the dense conv runs as Winograd; the rates are
    this host's CPU (GPUs take the same model today, their conv direct)."""
    B, C, O, H, W, k = batch, in_channels, out_channels, height, width, kernel
    cache = _cache(target)
    hf, wf = fft_geometry(H, W, k, padding)
    rows_b, cols_b = band_axes(hf, wf, index)
    nr, nk = len(rows_b), len(cols_b)
    kept = nr * nk
    ho, wo = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    rows, cols = (ho - 1) * stride + k, (wo - 1) * stride + k
    bias_adds = B * O * ho * wo

    conv = B * O * ho * wo * C * k * k
    proj = B * C * (rows * H * W + rows * cols * W)
    project = (conv + proj, bias_adds, C * O * k * k * dtype_bytes,
               _dense_conv_ns(conv, B, C, O, ho, wo, k, stride, cache) + proj / PROJECTION_MACS_PER_NS
               + bias_adds / ADDS_PER_NS)

    mix, spectra, mix_ns = _mixing(B, kept, C, O, cache, dtype_bytes)
    # fft: the four pruned FFT passes (kernels/fft_conv.py, counted from their programs) and
    # the products' X conj(F) combination, which the inverse's first pass does as it reads them
    out_rows, out_cols = tuple(range(0, ho * stride, stride)), tuple(range(0, wo * stride, stride))
    ops = butterfly_counts(B, C, O, H, W, hf, wf, padding, tuple(int(r) for r in rows_b), nk, out_rows, out_cols)
    combine = 2 * B * kept * O
    fft = (ops["muls"] + mix, ops["adds"] + combine + bias_adds, spectra,
           (ops["adds"] + ops["muls"] + combine) / BUTTERFLY_OPS_PER_NS + mix_ns + bias_adds / ADDS_PER_NS)
    # generic: the importer's DFT matmuls on the padded input, its slices and concats
    forward = B * C * (2 * hf * wf * nk + 4 * nr * hf * nk)
    inverse = B * O * (4 * ho * nr * nk + 2 * ho * nk * wo)
    adds = 2 * B * kept * C + 2 * B * kept * O + B * O * ho * wo + bias_adds + B * C * hf * wf
    generic = (forward + mix + inverse, adds, spectra,
               (forward + inverse) / TRANSFORM_MACS_PER_NS + mix_ns + adds / ADDS_PER_NS)
    spatial_macs = B * O * ho * wo * C * H * W
    spatial_bytes = C * O * ho * wo * H * W * dtype_bytes
    spatial = (spatial_macs, bias_adds, spatial_bytes,
               max(spatial_macs / DIRECT_MACS_PER_NS, _stream_ns(spatial_bytes, cache)) + bias_adds / ADDS_PER_NS)
    return {"project": project, "fft": fft, "spatial": spatial, "generic": generic}


def fft_conv_choice(batch: int, in_channels: int, out_channels: int, height: int, width: int, kernel: int,
                    stride: int, padding: int, index: int, target=None, dtype_bytes: int = 4,
                    implemented: tuple = OPTIONS) -> tuple[str, str]:
    """(choice, reason): the cheapest option by `fft_conv_costs` among `implemented`."""
    costs = fft_conv_costs(batch, in_channels, out_channels, height, width, kernel, stride, padding, index,
                           target, dtype_bytes)
    choice = min(implemented, key=lambda o: costs[o][3])
    detail = "; ".join(f"{o} {m} MACs + {a} adds + {w} weight bytes (~{ns / 1e3:.3g} us)"
                       for o, (m, a, w, ns) in costs.items())
    reason = (f"{choice}: {detail}; input {batch}x{in_channels}x{height}x{width}, {out_channels} outputs, "
              f"k={kernel}, stride {stride}, pad {padding}, idx {index}")
    return choice, reason
