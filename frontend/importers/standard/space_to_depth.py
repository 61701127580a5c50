"""SpaceToDepth's `mode` (opset 28): CRD as well as DCR.

TVM's converter always orders the blocks depth-column-row (DCR, the default and the only
order before opset 28); in CRD mode an output channel is c * blocksize^2 + row * blocksize
+ column of the input's channel c.
"""
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import refuse, text
from sedge.frontend.onnx_ops import register_standard_converter


@register_standard_converter("SpaceToDepth")
class SpaceToDepth(onnx_frontend.SpaceToDepth):
    @classmethod
    def _impl_v1(cls, bb, inputs, attr, params):
        mode = text(attr.get("mode"), "DCR")
        if mode == "DCR":
            return super()._impl_v1(bb, inputs, attr, params)
        if mode != "CRD":
            refuse(f"SpaceToDepth mode '{mode}' is no ONNX mode; allowed: 'DCR', 'CRD'")
        block = int(attr["blocksize"])
        b, c, h, w = inputs[0].ty.shape
        x = relax.op.reshape(inputs[0], (b, c, h // block, block, w // block, block))
        x = relax.op.permute_dims(x, [0, 1, 3, 5, 2, 4])
        return relax.op.reshape(x, (b, c * block * block, h // block, w // block))
