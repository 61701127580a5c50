"""ConvTranspose's `output_shape` attribute.

TVM's converter ignores it and gives the shape its pads make. ONNX: with output_shape,
the pads are generated from it. The total padding of an axis is
    stride * (in - 1) + output_padding + (kernel - 1) * dilation + 1 - output_shape;
positive, it is cut as the spec says (SAME_UPPER: the larger half at the end; NOTSET and
SAME_LOWER: at the start; ONNX Runtime 1.31 cuts the same); zero or negative, nothing is
cut and the output is extended at its end by output_padding, the bias added there too.
Refused in one line: an output_shape at or past the stride beyond the full output (ONNX
Runtime and ONNX's reference evaluator refuse it too), and explicit pads beside
output_shape (ONNX leaves their meaning open).
"""
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import rank_of, refuse, static_shape, text
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
            total = max(full - wanted[i], 0)
            begin.append(total // 2 if auto_pad == "SAME_UPPER" else total - total // 2)
            end.append(total - begin[-1])
            extend.append(max(wanted[i] - full, 0))
            if output_padding[i] + extend[i] >= strides[i]:
                refuse(f"ConvTranspose output_shape {wanted} lies {wanted[i] - full + output_padding[i]} past the "
                       f"convolution's output on spatial axis {i}, at stride {strides[i]}; allowed: less than the "
                       "stride past it (ONNX Runtime refuses it too)")
        attr["pads"] = begin + end
        attr["output_padding"] = [p + e for p, e in zip(output_padding, extend)]
        return super()._impl_v1(bb, inputs, attr, params)
