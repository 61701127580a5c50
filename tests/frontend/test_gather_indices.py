"""Stored gather indices are checked against the axis they index when an ONNX file is
imported: ONNX's range [-n, n - 1] is accepted, anything outside is one ModelImportError."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sedge.contract import TensorSpec
from sedge.errors import ModelImportError
from sedge.frontend.importers.fold_shapes import static_shapes
from sedge.frontend.importers.gather_indices import require_indices_in_range
from sedge.frontend.loaders import load_model

X = TensorSpec("x", [1, 4, 6], "float32")


def _model(op, indices, axis, stored_as="initializer", out_shape=None):
    """`op`(x, indices) on a 1x4x6 input, the indices an initializer or a Constant node."""
    tensor = numpy_helper.from_array(np.asarray(indices, dtype=np.int64), "idx")
    nodes = [helper.make_node(op, ["x", "idx"], ["y"], axis=axis)]
    if stored_as == "constant":
        nodes.insert(0, helper.make_node("Constant", [], ["idx"], value=tensor))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, X.shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
                              [tensor] if stored_as == "initializer" else [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


@pytest.mark.parametrize("op, indices, axis", [
    ("Gather", [0, 3, -4], 1),  # -4 is ONNX's first of 4
    ("Gather", [[5, -1]], -1),
    ("GatherElements", np.zeros((1, 4, 6)), 2),
])
def test_indices_inside_the_axis_are_accepted(op, indices, axis):
    model = _model(op, indices, axis)
    require_indices_in_range(model, static_shapes(model, [X]))


@pytest.mark.parametrize("op, indices, axis, bad, n", [
    ("Gather", [0, 4], 1, 4, 4),
    ("Gather", [-5], 1, -5, 4),
    ("Gather", [[0, 6]], -1, 6, 6),
    ("GatherElements", np.full((1, 4, 6), 7), 2, 7, 6),
])
@pytest.mark.parametrize("stored_as", ["initializer", "constant"])
def test_an_index_outside_the_axis_is_refused(op, indices, axis, bad, n, stored_as):
    with pytest.raises(ModelImportError) as refused:
        model = _model(op, indices, axis, stored_as)
        require_indices_in_range(model, static_shapes(model, [X]))
    message = str(refused.value)
    assert f"{op} node writing 'y' reads index {bad} along axis {axis % 3}, which has {n} elements" in message
    assert f"{-n}..{n - 1}" in message and "\n" not in message


def test_indices_computed_by_the_model_are_left_to_run_time(tmp_path):
    """A Gather whose indices are a graph input has nothing stored to check; it imports."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["x", "idx"], ["y"], axis=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, X.shape),
         helper.make_tensor_value_info("idx", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 6])])
    path = tmp_path / "gather.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    assert load_model(str(path)).mod is not None


def test_the_onnx_loader_refuses_the_model(tmp_path):
    path = tmp_path / "gather.onnx"
    onnx.save(_model("Gather", [0, 9], 1, out_shape=[1, 2, 6]), path)
    with pytest.raises(ModelImportError, match="reads index 9 along axis 1"):
        load_model(str(path))
