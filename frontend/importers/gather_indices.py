"""Refuse an ONNX graph whose constant gather indices fall outside the axis they index.

TVM imports Gather and GatherElements as `take`-style gathers that trust their indices (the
"fast" mode TOPI warns about): an index outside the axis reads whatever memory lies beyond
the tensor, a silent wrong answer or a crash at run time. ONNX Runtime refuses such a model
only when it runs it. Indices stored in the file (an initializer or a Constant node: a
hashed layer's index map, a fixed channel order) are checked here, at import, against the
axis length ONNX's shape inference gives; indices the model computes at run time are not.
"""

from sedge.errors import ModelImportError
from sedge.frontend.importers.fold_shapes import constant_nodes

GATHERS = ("Gather", "GatherElements")


def _stored_tensors(graph) -> dict:
    """{value name: TensorProto} for the graph's initializers and Constant nodes' values."""
    stored = {init.name: init for init in graph.initializer}
    for name, node in constant_nodes(graph).items():
        stored.update({name: a.t for a in node.attribute if a.name == "value"})
    return stored


def require_indices_in_range(proto, shapes: dict[str, list[int]]):
    """A one-line ModelImportError at the first Gather / GatherElements whose stored
    indices lie outside [-n, n - 1] for the n elements along its axis (ONNX's rule);
    `shapes` is `fold_shapes.static_shapes(proto, ...)`."""
    from onnx import numpy_helper

    graph = proto.graph
    stored = _stored_tensors(graph)
    gathers = [node for node in graph.node if node.op_type in GATHERS and node.domain in ("", "ai.onnx")
               and len(node.input) > 1 and node.input[1] in stored]
    for node in gathers:
        shape = shapes.get(node.input[0])
        if not shape:
            continue  # unknown rank or axis length: TVM's import reports what it cannot handle
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        axis = axis + len(shape) if axis < 0 else axis
        if not 0 <= axis < len(shape):
            continue  # ONNX's checker and TVM's import name a bad axis themselves
        n = shape[axis]
        indices = numpy_helper.to_array(stored[node.input[1]])
        outside = indices[(indices < -n) | (indices >= n)]
        if outside.size:
            which = f"'{node.name}'" if node.name else f"writing '{node.output[0]}'"
            raise ModelImportError(
                f"{node.op_type} node {which} reads index {int(outside.flat[0])} along axis {axis}, which has {n} "
                f"elements; its indices must lie in {-n}..{n - 1}")
