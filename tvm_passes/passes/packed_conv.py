"""Channels-last convolutions with weights packed per output-channel tile.

In HWIO, one tile of `ob` output channels (the vectors a CPU kernel keeps in registers)
finds its weights in 128-byte pieces strided across the whole tensor; on deep layers,
whose weights stream from DRAM on every inference, that defeats the prefetchers. Packing
to (O/ob, KH, KW, I, ob) makes each tile's weights one contiguous block. The packing is a
weight-only `layout_transform`, which `lift-params` moves to load time; the convolution
becomes a TE compute over the packed weights that legalizes, fuses and is scheduled like
any channels-last conv (`ob` comes from the same tile choice as the schedule's).

A dense conv whose output channels tile exactly only in narrow vectors (ShuffleNet v2's
58 = 2 x 29, 116, 232) computes its outputs rounded up to whole vectors over zero-padded
weights, and a slice drops the padding in the kernel's write-back (a 1x1 conv on 14x14x116:
4-lane -> 16-lane tiles, 57 -> 18 us per call in torchvision's shufflenet_v2).

A conv whose input is a channel shuffle (`take` along channels, see channel_shuffle.py)
reads the unshuffled tensor through the shuffle's index arithmetic: its scalar broadcasts
cost the same in any channel order, so the shuffle kernel disappears.

A dense or grouped conv whose input is the NCHW -> NHWC transpose that channels-last puts
at the model's input reads the NCHW tensor itself: its kernel broadcasts input scalars,
which any layout serves, so the transpose (a separate pass over the image) folds into the
conv's pad. A depthwise conv reads channel vectors: its input stays transposed.
"""
import numpy as np
import tvm
from tvm import relax, te, topi

from sedge.tvm_passes.passes import TeCalls, bound_constant, nchw_source, op_name, rewrite_for_cpu, static_shape
from sedge.tvm_passes.passes.channel_shuffle import channel_gather, shuffle_groups
from sedge.tvm_passes.schedules.reduction import output_lanes


def packed_conv2d(x, wp, strides, padding, dilation, groups, nchw_input=False, shuffle_groups=None,
                  channel_index=None):
    """NHWC conv over weights packed as (O/ob, KH, KW, I/groups, ob); `nchw_input` reads
    an NCHW `x` as if transposed to NHWC; `shuffle_groups` g reads `x` as if channel-shuffled,
    shuffled[i*g + j] = x[j*C/g + i]; `channel_index` (a constant tensor) reads `x` as if
    gathered along its channels, gathered[c] = x[channel_index[c]]."""
    if nchw_input:
        x = topi.transpose(x, [0, 2, 3, 1])
    _, height, width, _ = (int(d) for d in x.shape)
    tiles, kh, kw, group_in, ob = (int(d) for d in wp.shape)
    out_channels, (sh, sw), (dh, dw) = tiles * ob, strides, dilation
    top, left, bottom, right = padding
    out_h = (height + top + bottom - dh * (kh - 1) - 1) // sh + 1
    out_w = (width + left + right - dw * (kw - 1) - 1) // sw + 1
    if top or left or bottom or right:
        x = topi.nn.pad(x, [0, top, left, 0], [0, bottom, right, 0], name="pad_temp")
    ry, rx = te.reduce_axis((0, kh), "ry"), te.reduce_axis((0, kw), "rx")
    rc = te.reduce_axis((0, group_in), "rc")
    per_group = out_channels // groups

    def channel(o):  # the input channel a group reads; written plainly when there is one group
        wanted = rc if groups == 1 else o // per_group * group_in + rc
        if channel_index is not None:
            return channel_index[wanted]
        if shuffle_groups is None:
            return wanted
        return wanted % shuffle_groups * (int(x.shape[3]) // shuffle_groups) + wanted // shuffle_groups

    return te.compute(
        (int(x.shape[0]), out_h, out_w, out_channels),
        lambda n, h, w, o: te.sum(x[n, h * sh + ry * dh, w * sw + rx * dw, channel(o)]
                                  * wp[o // ob, ry, rx, rc, o % ob], axis=[ry, rx, rc]),
        name="conv2d_nhwc_packed")


def padded_channels(channels: int, lanes: int) -> int:
    """The output channels a dense conv computes: `channels` rounded up to whole vectors when
    that uses at least 1.5x the lanes that exact vectors do (ShuffleNet v2's 58, 116 and 232
    channels tile exactly only in 2-, 4- and 8-lane vectors), else `channels`."""
    whole = -(-channels // lanes) * lanes
    return whole if channels / whole >= 1.5 * output_lanes(channels, lanes) / lanes else channels


@relax.expr_functor.mutator
class _Packer(relax.PyExprMutator):
    def __init__(self, mod, spec, tile_shape):
        super().__init__(mod)
        self.spec, self.tile_shape = spec, tile_shape
        self.te_calls = TeCalls(self.builder_)

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if op_name(call) != "relax.nn.conv2d":
            return call
        attrs = call.attrs
        if (attrs.data_layout, attrs.kernel_layout, attrs.out_layout) != ("NHWC", "HWIO", "NHWC"):
            return call
        x, w = call.args
        out_shape = [int(d) for d in call.ty.shape]
        kh, kw, group_in, out_channels = (int(d) for d in w.ty.shape)
        groups = int(attrs.groups)
        group_out = out_channels // groups if groups > 1 and group_in > 1 else None
        computed = padded_channels(out_channels, self.spec.lanes) if groups == 1 else out_channels
        vec, o_vectors, _ = self.tile_shape(out_shape[2], computed, kh * kw * group_in, self.spec, group_out)
        ob = vec * o_vectors
        nchw = nchw_source(self, x) if groups == 1 or group_in > 1 else None
        gathered = channel_gather(self, x) if group_in > 1 else None  # a depthwise conv reads vectors
        shuffle = index = None
        if gathered is not None:
            x, channels = gathered
            shuffle = shuffle_groups(channels) if len(channels) == static_shape(x)[3] else None
            index = None if shuffle else relax.const(channels.astype("int32"))  # a table where no formula
        if str(call.ty.dtype) != str(x.ty.dtype) or (ob == computed == out_channels and nchw is None
                                                     and gathered is None):
            return call  # one tile holds every output channel: HWIO is already contiguous per tile
        pad = [0, 0, 0, 0, 0, 0, 0, computed - out_channels]
        constant = bound_constant(self, w)
        if constant is not None:  # an importer's weight: packed here in numpy, not by FoldConstant
            weights = np.pad(constant.value.numpy(), np.reshape(pad, (4, 2)))
            packed = relax.const(np.ascontiguousarray(
                weights.reshape(kh, kw, group_in, computed // ob, ob).transpose(3, 0, 1, 2, 4)))
        else:
            if computed != out_channels:
                w = self.builder_.emit(relax.op.nn.pad(w, pad))
            packed = self.builder_.emit(relax.op.layout_transform(
                w, index_map=lambda h, s, i, o: (o // ob, h, s, i, o % ob)))
        conv = self.te_calls(
            packed_conv2d, x if nchw is None else nchw, packed, strides=[int(s) for s in attrs.strides],
            padding=[int(p) for p in attrs.padding], dilation=[int(d) for d in attrs.dilation],
            groups=groups, nchw_input=nchw is not None, shuffle_groups=shuffle, channel_index=index,
            primfunc_name_hint="conv2d")
        if computed == out_channels:
            return conv
        # the padding's outputs dropped: the slice fuses into the conv kernel's write-back
        return relax.op.strided_slice(self.builder_.emit(conv), axes=[3], begin=[0], end=[out_channels])


def pack_conv_weights(target: tvm.target.Target) -> tvm.transform.Pass:
    @tvm.transform.module_pass(opt_level=0, name="PackConvWeights")
    def rewrite(mod, _ctx):
        packed = rewrite_for_cpu(mod, target, _Packer)
        if target.kind.name != "llvm":
            return packed
        return relax.transform.DeadCodeElimination()(packed)  # folded input transposes and shuffles

    return rewrite
