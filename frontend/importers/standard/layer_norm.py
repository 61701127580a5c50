"""LayerNormalization with its optional Mean and InvStdDev outputs.

TVM's converter returns 0-d zeros for them. ONNX (opset 17): over the axes `axis..rank-1`,
Mean = mean(X) and InvStdDev = 1 / sqrt(var(X) + epsilon), both of X's shape with those
axes kept as 1, in the stash type (float32 by default). Models that read only Y (the
exporters' usual node) are imported as TVM does, as one `nn.layer_norm`.
"""
import numpy as np
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import dtype_of, output_count, rank_of, refuse
from sedge.frontend.onnx_ops import register_standard_converter


@register_standard_converter("LayerNormalization")
class LayerNormalization(onnx_frontend.LayerNormalization):
    @classmethod
    def _impl_v17(cls, bb, inputs, attr, params):
        converted = super()._impl_v17(bb, inputs, attr, params)
        if output_count(attr) == 1:
            return converted
        import onnx

        x = inputs[0]
        rank = rank_of(x)
        if rank < 1:
            refuse("LayerNormalization's Mean / InvStdDev outputs of an input of unknown rank; allowed: a known rank")
        axis = int(attr.get("axis", -1)) % rank
        axes = list(range(axis, rank))
        stash = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(int(attr.get("stash_type", 1)))).name
        if dtype_of(x) != stash:
            x = bb.emit(relax.op.astype(x, stash))
        mean = bb.emit(relax.op.mean(x, axes, keepdims=True))
        centred = bb.emit(relax.op.subtract(x, mean))
        variance = bb.emit(relax.op.mean(relax.op.multiply(centred, centred), axes, keepdims=True))
        epsilon = relax.const(float(attr.get("epsilon", 1e-5)), stash)
        inv_std_dev = bb.emit(relax.op.rsqrt(relax.op.add(variance, epsilon)))
        return relax.Tuple([converted.fields[0], mean, inv_std_dev])
