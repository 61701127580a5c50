"""ConvTranspose's `output_shape` attribute.

TVM's converter ignores it and gives the shape its pads make. ONNX: with output_shape,
the pads are generated from it. The total padding of an axis is
    stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - output_shape;
positive, it is split as auto_pad says (SAME_UPPER: the larger half at the end; otherwise
at the start); zero or negative, nothing is cut and the output is extended at its end (the
bias added there too), as ONNX's reference and ONNX Runtime do: by output_padding while
it stays below the stride, by zeros concatenated after the rest. An odd positive total is
refused: ONNX Runtime puts the odd pixel at the other end than ONNX's spec for NOTSET and
SAME_UPPER, so no answer is right for both; explicit pads beside output_shape are refused
too (ONNX leaves their meaning open).
"""
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import dtype_of, rank_of, refuse, static_shape, text
from sedge.frontend.onnx_ops import register_standard_converter


@register_standard_converter("ConvTranspose")
class ConvTranspose(onnx_frontend.ConvTranspose):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        if "output_shape" not in attr:
            return super()._impl_v1(bb, inputs, attr, params)
        spatial = rank_of(inputs[0]) - 2
        wanted = [int(v) for v in attr.pop("output_shape")][-spatial:]
        if any(int(p) for p in attr.get("pads", [])):
            refuse("ConvTranspose with both pads and output_shape; allowed: one of them")
        x_shape, w_shape = static_shape(inputs[0]), static_shape(inputs[1])
        if x_shape is None or w_shape is None:
            refuse("ConvTranspose output_shape with an input or weight shape known only at run time")
        strides = list(attr.get("strides", [1] * spatial))
        dilations = list(attr.get("dilations", [1] * spatial))
        output_padding = list(attr.get("output_padding", [0] * spatial))
        kernel = list(attr.get("kernel_shape", w_shape[2:]))
        auto_pad = text(attr.pop("auto_pad", None), "NOTSET")
        begin, end, extend = [], [], []
        for i in range(spatial):
            full = strides[i] * (x_shape[i + 2] - 1) + output_padding[i] + (kernel[i] - 1) * dilations[i] + 1
            total = full - wanted[i]
            if total > 0 and total % 2:
                refuse(f"ConvTranspose output_shape {wanted} needs an odd total padding ({total}) on spatial axis "
                       f"{i}, which ONNX's spec and ONNX Runtime place at opposite ends; allowed: an even one, "
                       "or explicit pads")
            total = max(total, 0)
            begin.append(total // 2 if auto_pad == "SAME_UPPER" else total - total // 2)
            end.append(total - begin[-1])
            extend.append(max(wanted[i] - full, 0))
        attr["pads"] = begin + end
        # the extension goes into output_padding where it stays below the stride, as ONNX allows;
        # the rest is concatenated zeros (an nn.pad after the conv_transpose lost its padding
        # in sedge's lowering: the padded border held whatever the memory held)
        padding = [p + e if p + e < s else p for p, e, s in zip(output_padding, extend, strides)]
        extend = [e if p + e >= s else 0 for p, e, s in zip(output_padding, extend, strides)]
        attr["output_padding"] = padding
        bias = inputs[2] if len(inputs) > 2 else None
        y = bb.normalize(super()._impl_v1(bb, [inputs[0], inputs[1], None], attr, params))
        for i, e in enumerate(extend):
            if e:
                shape = static_shape(y)
                shape[i + 2] = e
                zeros = relax.op.zeros(shape, dtype_of(y))
                y = bb.emit(relax.op.concat([y, zeros], axis=i + 2))
        if bias is not None:
            y = relax.op.add(y, relax.op.reshape(bias, [1, -1] + [1] * spatial))
        return y
