"""What each lowering of a structured conv costs (methods.md §1), for the per-layer choice.

Three lowerings (passes/structured_conv.py):
- `fold`: alpha multiplied back into the dense N x N kernel at load time; per inference the
  dense conv, which sedge's recipe runs as Winograd where that pays (3x3, stride 1);
- `sumpool+conv`: the add-only sum-pool kernel (kernels/sum_pool.py, CPUs) writes the pooled
  tensor, the small conv on alpha reads it: fewer MACs, one more pass over memory; where
  the small conv runs as Winograd and the pool is spatial only (Struct-ResNet-A), the pool
  folds into the Winograd input transform instead: no pass of its own, larger input tiles;
- `generic`: the construct's body, the pool as 0/1-weight convs (every target has it).

Time is a roofline per kernel, max(MACs / rate, bytes / bandwidth), summed over the kernels
of the lowering: the conv rate is sedge's measured dense-conv throughput, discounted for the
short reductions of small convs (a c x n x n reduction under REDUCTION_FULL_RATE keeps the
register tile's accumulators waiting on loads); a folded 3x3 conv and a 2x2 small conv run
as Winograd where the recipe's own rule (winograd_conv.winograd_tile) takes them; the sum-pool streams its input
once and writes the pooled tensor at the memory rate. The constants are this host's, measured with
`python -m benchmarks.structured_layers` (docs/structured-kernels.md), where the model's
choice is checked against both options timed.
"""
import math
from dataclasses import dataclass

from sedge.tvm_passes.lowering import GENERIC, Option
from sedge.tvm_passes.passes.winograd_conv import winograd_tile

SUM_POOL, FOLD = "sumpool+conv", "fold"

# sedge's direct conv (register-blocked): multiply-adds per ns on this host's 2 cores
# (measured 55-80 on mobilenetv2-struct-b's 1x1 convs and resnet50's 2x2 small convs, fed
# channels-last as inside a model)
CONV_MACS_PER_NS = 70.0
# a reduction (input channels x window) shorter than this runs below the full conv rate, as
# the square root of the ratio: the register tile's loads and stores are amortised over fewer
# multiply-adds (measured: a 1x1 conv reducing 12 channels ran at ~58 MACs/ns, 16-32 at 70-80)
REDUCTION_FULL_RATE = 16
# depthwise convs: one multiply-add per loaded input, memory-bound (mobilenetv2's 3x3 ones ran
# at 26-31 MACs/ns, the stride-2 ones at ~20)
DEPTHWISE_MACS_PER_NS = 28.0
# activation bytes per ns for streaming kernels (the sum-pool's passes, Winograd's input and
# output transforms, a layer's input and weights)
STREAM_BYTES_PER_NS = 20.0
# the sum-pool kernel's adds per ns, every pass vectorised along the channels (the channel
# window's running sum a vector of outputs at a time). The kernel is charged its memory
# traffic (input read, pooled tensor written) at STREAM_BYTES_PER_NS on every layer of the
# models. That is well under what the running sum moves (56x56x96 -> 48: 96 GB/s alone on an
# input still in cache from its last run, 55 GB/s inside the model on the output of the
# kernel before it), but it keeps the choices the model measures best. Alone, `sumpool+conv`
# runs 10-25% faster than the choice on six of mobilenetv2-struct-b's 56x56 and 28x28 1x1
# layers; charged at 50 GB/s, the pool moved those layers (ten in the model) to it, and the model
# ran 0-3% slower (docs/structured-kernels.md)
POOL_ADDS_PER_NS = 12.0
POOLED_PASSES = 2  # the pooled tensor's passes over memory: the pool writes it, the small conv reads it


@dataclass(frozen=True)
class StructuredLayer:
    """One structured conv's geometry: NCHW input (batch, channels, height, width) -> output."""

    batch: int
    channels: int
    height: int
    width: int
    out_channels: int
    out_height: int
    out_width: int
    groups: int
    c: int
    n: int
    kernel: int
    pads: tuple  # top, left, bottom, right
    dilation: tuple
    strides: tuple
    dtype_bytes: int = 4

    @property
    def group_in(self) -> int:
        return self.channels // self.groups

    @property
    def channel_window(self) -> int:
        return self.group_in - self.c + 1

    @property
    def window(self) -> int:
        return self.kernel - self.n + 1

    @property
    def pooled(self) -> tuple:
        (top, left, bottom, right), (dh, dw) = self.pads, self.dilation
        return (self.height + top + bottom - dh * (self.window - 1),
                self.width + left + right - dw * (self.window - 1))

    @property
    def depthwise(self) -> bool:
        return self.group_in == 1

    @property
    def has_pool(self) -> bool:
        """Whether there is a sum-pool to do at all (else every lowering is the small conv)."""
        return self.channel_window > 1 or self.window > 1 or any(self.pads)

    def outputs(self) -> int:
        return self.batch * self.out_channels * self.out_height * self.out_width

    def pooled_elements(self) -> int:
        return self.batch * self.groups * self.c * math.prod(self.pooled)

    def dense_macs(self) -> int:
        return self.outputs() * self.group_in * self.kernel ** 2

    def small_macs(self) -> int:
        return self.outputs() * self.c * self.n ** 2

    def pool_adds(self) -> int:
        """The sum-pool kernel's adds: vertical (k - 1 per element of the k-row sums), the
        channel window as a running sum (2 per output, and kc - 1 for the first window: 1 per input
        channel and 1 per output), horizontal (k - 1)."""
        return self.spatial_pool_adds() + self.channel_window_adds()

    def spatial_pool_adds(self) -> int:
        ph, _ = self.pooled
        k = self.window
        return self.batch * ph * self.width * self.channels * (k - 1) + self.pooled_elements() * (k - 1)

    def channel_window_adds(self) -> int:
        if self.channel_window == 1:
            return 0
        ph, _ = self.pooled
        padded_w = self.width + self.pads[1] + self.pads[3]
        return self.batch * ph * padded_w * (self.channels + self.groups * self.c)

    def generic_macs(self) -> int:
        """The generic body: the spatial pool as a depthwise all-ones conv, the channel window
        as a 0/1 band 1x1 conv, then the small conv."""
        ph, pw = self.pooled
        spatial = self.batch * self.channels * ph * pw * self.window ** 2 if self.window > 1 else 0
        band = self.pooled_elements() * self.group_in if self.channel_window > 1 else 0
        return spatial + band + self.small_macs()

    def input_bytes(self) -> int:
        return self.batch * self.channels * self.height * self.width * self.dtype_bytes

    def weight_bytes(self, dense: bool) -> int:
        per_out = self.group_in * self.kernel ** 2 if dense else self.c * self.n ** 2
        return self.out_channels * per_out * self.dtype_bytes


def _depthwise_rate(kernel: int) -> float:
    """MACs per ns of a depthwise k x k conv: fewer taps reuse each loaded input less
    (mobilenetv2-struct-b's 2x2 depthwise convs ran at ~2/3 of the 3x3 ones' rate)."""
    return DEPTHWISE_MACS_PER_NS * min(1.0, kernel / 3)


def _conv_ns(layer: StructuredLayer, macs: int, reduction: int, out_per_group: int, weight_bytes: int,
             lanes: int, winograd: int | None = None, kernel: int = 3, pool_window: int = 1) -> float:
    """A conv's time: a roofline of its MACs at the conv rate and the bytes it streams
    (input, weights). The rate drops for short reductions (REDUCTION_FULL_RATE) and for
    output channels that fill the vector lanes only in part (24 channels in 2 x 16 lanes run
    at 75%); depthwise convs have their own. As Winograd F(m x m, r x r), where the recipe
    takes it (`winograd`: the tile m; `kernel`: r): the products of the transformed tiles
    ((m + r - 1)^2 per m^2 outputs, against r^2) plus the transforms, which stream the input
    and product tiles; with a k x k sum-pool folded into the input transform (`pool_window`),
    its input tiles are (m + r + k - 2)^2 (the denser B^T S: resnet50-struct-a's 56x56 and
    28x28 small convs ran 8-9% slower so than after a separate pool)."""
    streamed = (layer.input_bytes() + weight_bytes) / STREAM_BYTES_PER_NS
    if layer.depthwise:
        return max(macs / _depthwise_rate(kernel), streamed)
    if winograd:
        side = winograd + kernel - 1
        products = macs * side ** 2 / (kernel ** 2 * winograd ** 2)
        tiles = layer.batch * (layer.out_height // winograd) * (layer.out_width // winograd)
        tile_values = tiles * ((side + pool_window - 1) ** 2 * layer.channels + side ** 2 * layer.out_channels)
        return products / CONV_MACS_PER_NS + 2 * tile_values * layer.dtype_bytes / STREAM_BYTES_PER_NS
    lane_fill = out_per_group / (math.ceil(out_per_group / lanes) * lanes)
    rate = CONV_MACS_PER_NS * min(1.0, math.sqrt(reduction / REDUCTION_FULL_RATE)) * lane_fill
    return max(macs / rate, streamed)


def structured_options(layer: StructuredLayer, sum_pool_kernel: bool, cache_bytes: int, lanes: int) -> list[Option]:
    """The lowerings of `layer` with their costs; `sum_pool_kernel`: the target has the kernel;
    `cache_bytes`: the L2 share the Winograd rewrite weighs its transformed weights against;
    `lanes`: the target's fp32 vector lanes."""
    strided = layer.strides != (1, 1) or layer.dilation != (1, 1)
    def winograd(kernel: int, channels: int) -> int | None:  # the recipe's own rule (winograd_conv.py)
        return winograd_tile(layer.batch, layer.out_height, layer.out_width, channels, layer.out_channels,
                             (kernel, kernel), layer.groups, strided, cache_bytes)

    dense_w, small_w = layer.weight_bytes(True), layer.weight_bytes(False)
    out_per_group = layer.out_channels // layer.groups
    fold_ns = _conv_ns(layer, layer.dense_macs(), layer.group_in * layer.kernel ** 2, out_per_group, dense_w, lanes,
                       winograd(layer.kernel, layer.channels), layer.kernel)
    options = [Option(FOLD, layer.dense_macs(), 0, dense_w, fold_ns / 1e3)]
    if not layer.has_pool:
        return options  # the small conv is the dense conv: nothing else to choose
    small_winograd = winograd(layer.n, layer.groups * layer.c)
    small_ns = _conv_ns(layer, layer.small_macs(), layer.c * layer.n ** 2, out_per_group, small_w, lanes,
                        small_winograd, layer.n)
    pooled_bytes = layer.pooled_elements() * layer.dtype_bytes
    if sum_pool_kernel and small_winograd and layer.channel_window == 1 and layer.dilation == (1, 1):
        # a spatial pool before a Winograd small conv folds into its input transform
        # (winograd_conv.pooled_rows): no pass over memory, no adds of its own, larger input tiles
        folded_ns = _conv_ns(layer, layer.small_macs(), layer.c * layer.n ** 2, out_per_group, small_w, lanes,
                             small_winograd, layer.n, layer.window)
        options.append(Option(SUM_POOL, layer.small_macs(), 0, small_w, folded_ns / 1e3))
    elif sum_pool_kernel:
        pool_ns = max(layer.pool_adds() / POOL_ADDS_PER_NS,
                      (layer.input_bytes() + POOLED_PASSES * pooled_bytes) / STREAM_BYTES_PER_NS)
        options.append(Option(SUM_POOL, layer.small_macs(), layer.pool_adds(), small_w, (pool_ns + small_ns) / 1e3))
    # the generic body: the spatial window as a depthwise all-ones conv, the channel window as
    # a 0/1 band 1x1 conv (a conv reducing the group's channels), then the small conv
    ph, pw = layer.pooled
    spatial_macs = layer.batch * layer.channels * ph * pw * layer.window ** 2 if layer.window > 1 else 0
    band_macs = layer.pooled_elements() * layer.group_in if layer.channel_window > 1 else 0
    generic_ns = spatial_macs / _depthwise_rate(layer.window) + small_ns
    if band_macs:
        generic_ns += _conv_ns(layer, band_macs, layer.group_in, layer.c, 0, lanes)
    options.append(Option(GENERIC, layer.generic_macs(), 0, small_w, generic_ns / 1e3))
    return options
