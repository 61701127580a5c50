"""Dropout and BatchNormalization in training mode: refused in one line.

sedge compiles inference graphs. TVM's converters import a training-mode node as
something else without a word: a training Dropout (opset 12+: its third input true) as the
identity where it should zero random elements and scale the rest by 1 / (1 - ratio); a
BatchNormalization with training_mode=1 (or, before opset 14, the running-statistics
outputs) normalised by its stored statistics where it should use the batch's, with
running statistics that are not ONNX's. Both are refused naming the op and what is
allowed (a model exported in eval mode: `model.eval()` before `torch.onnx.export`).
A Dropout that is the identity is imported as one, also with its mask output (all true,
bool): inference mode, or training with ratio 0.
"""
import tvm
from tvm import relax
from tvm.relax.frontend.onnx import onnx_frontend

from sedge.frontend.importers.standard.common import output_count, refuse
from sedge.frontend.onnx_ops import register_standard_converter

_EVAL = "a model exported in eval mode: model.eval() before torch.onnx.export"


def _constant(expr, params, what: str):
    value = onnx_frontend.get_constant(expr, params)
    if not isinstance(value, tvm.ir.GenericConst):
        refuse(f"Dropout with its {what} known only at run time; allowed: a {what} stored in the model "
               "(sedge compiles inference: training_mode false)")
    return value.value.numpy()


@register_standard_converter("Dropout")
class Dropout(onnx_frontend.Dropout):
    @classmethod
    def _impl_v12(cls, bb, inputs, attr, params):
        x = inputs[0]
        training = len(inputs) > 2 and inputs[2] is not None and bool(_constant(inputs[2], params, "training_mode"))
        ratio = 0.5  # read only in training mode: inference ignores it, stored as a weight or not
        if training and len(inputs) > 1 and inputs[1] is not None:
            ratio = float(_constant(inputs[1], params, "ratio"))
        if training and ratio != 0:
            refuse(f"Dropout in training mode (training_mode true, ratio {ratio:g}) drops random elements; "
                   f"allowed: training_mode false or ratio 0 ({_EVAL})")
        if output_count(attr) == 1:
            return x
        mask = relax.op.ones(x.ty.shape, "bool")
        return relax.Tuple([x, mask])


@register_standard_converter("BatchNormalization")
class BatchNormalization(onnx_frontend.BatchNormalization):
    @classmethod
    def _impl_v15(cls, bb, inputs, attr, params):
        if int(attr.get("training_mode", 0)) or output_count(attr) > 1:
            refuse("BatchNormalization in training mode (training_mode=1, or its running mean / variance "
                   "outputs) normalises by the batch's statistics; allowed: training_mode=0 and the output Y only "
                   f"({_EVAL})")
        return super()._impl_v15(bb, inputs, attr, params)
