"""Fold an ONNX graph's shape arithmetic into constants before TVM imports it.

PyTorch's TorchScript exporter writes `x.chunk(2, 1)`, `x.view(x.size(0), -1)` and the like
as Shape -> Gather -> Add / Div / Mul -> Slice / Reshape chains. TVM's ONNX frontend imports
such a chain as tensor arithmetic done at run time, and the op it feeds as one whose output
shape is unknown (`R.dynamic_strided_slice` -> `R.Tensor(ndim=4)`), which no later pass can
compile: torchvision's shufflenet_v2 stopped so in the first conv after a chunk.

Once the model's input shapes are fixed, every such value is a constant. ONNX's own shape
inference gives the result of each Shape (and Size) node; ONNX's reference evaluator
computes, in one run, every standard-op node downstream that reads only constants; the
values the remaining graph reads become Constant nodes, and the folded nodes go.
"""
import numpy as np

from sedge.contract import TensorSpec

# Results larger than this stay computed by the graph: shape values are a few elements,
# while an Identity or Transpose of a weight would only duplicate that weight.
MAX_FOLDED_ELEMENTS = 1024
# Values computed from the graph's Constant nodes alone (no weight read) may be larger: Swin's
# shifted-window attention masks (windows x 49 x 49) are built by ~80 ops per block from
# zeros and slices; left to TVM, its FoldConstant compiled a kernel for each (~1000 in swin_t,
# 40 s of its compile)
MAX_COMPUTED_ELEMENTS = 1 << 20
_NOT_GROWING = {"Slice", "Concat", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Gather", "Cast", "Identity",
                "Add", "Sub", "Mul", "Div", "Mod", "Neg", "Abs", "Min", "Max", "Floor", "Ceil", "Equal", "Less",
                "Greater", "Not", "Where", "ReduceProd", "ReduceSum"}
_NONDETERMINISTIC = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Multinomial",
                     "Bernoulli"}


def static_shapes(proto, inputs: list[TensorSpec]) -> dict[str, list[int]]:
    """{value name: its shape} for every value whose shape ONNX's inference fixes, with the
    graph inputs at the shapes sedge compiles for (--input-shapes may override the file's).
    The loader runs it once, for the fold and for the gather-index check."""
    import onnx

    model = onnx.ModelProto()
    model.CopyFrom(proto)
    given = {s.name: s.shape for s in inputs}
    for value in model.graph.input:
        if value.name in given:
            shape = value.type.tensor_type.shape
            shape.ClearField("dim")
            for d in given[value.name]:
                shape.dim.add().dim_value = d
    try:
        inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception:  # an inconsistent model: nothing is folded, and the import reports the problem
        return {}
    shapes = {}
    for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        tensor_type = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        if tensor_type.HasField("shape") and None not in dims:
            shapes[value.name] = dims
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)
    measured = _measured_shapes(model, inputs, [node.input[0] for node in model.graph.node
                                                if node.op_type in ("Shape", "Size") and node.input
                                                and node.input[0] not in shapes])
    shapes.update(measured)
    return Shapes(shapes, measured=bool(measured))


class Shapes(dict):
    """{value name: shape}; `measured`: ONNX's inference left some unknown (ONNX Runtime
    measured those a Shape node reads), so the values after them have no shape yet."""

    def __init__(self, shapes: dict, measured: bool = False):
        super().__init__(shapes)
        self.measured = measured


def fold_static(proto, inputs: list[TensorSpec], shapes: Shapes):
    """fold_shape_arithmetic, once more on its result where the first inference stopped
    early (`shapes.measured`): with the measured shapes folded in, ONNX's inference reaches
    the values after them, and what they compute from constants folds too (Swin's masks)."""
    folded = fold_shape_arithmetic(proto, shapes)
    if folded is proto or not shapes.measured:
        return folded
    return fold_shape_arithmetic(folded, static_shapes(folded, inputs))


def _measured_shapes(model, inputs: list[TensorSpec], names: list[str]) -> dict[str, list[int]]:
    """{name: shape} of values ONNX's inference left without one, measured in one run of
    ONNX Runtime on zeros ({} where it cannot run the graph). Its data propagation stops at
    ops such as Mod: Swin's shifted-window padding, `(w - W % w) % w`, left every later
    shape unknown and its Pad's pads a run-time tensor, which TVM does not import."""
    if not names:
        return {}
    try:
        import onnxruntime
        from onnx import helper

        probe = type(model)()
        probe.CopyFrom(model)
        known = {value.name for value in probe.graph.output}
        probe.graph.output.extend(helper.make_empty_tensor_value_info(name) for name in dict.fromkeys(names)
                                  if name not in known)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        session = onnxruntime.InferenceSession(probe.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        feed = {spec.name: np.zeros(spec.shape, dtype=spec.dtype) for spec in inputs
                if spec.name in {i.name for i in session.get_inputs()}}
        outputs = [o.name for o in session.get_outputs()]
        results = session.run(outputs, feed)
    except Exception:  # an op ONNX Runtime lacks (sedge's own functions), a bad graph: unmeasured
        return {}
    wanted = set(names)
    return {name: list(value.shape) for name, value in zip(outputs, results) if name in wanted}


def constant_nodes(graph) -> dict:
    """{value name: the standard Constant node that gives it}."""
    return {node.output[0]: node for node in graph.node
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx")}


def _names_read(nodes) -> set[str]:
    """Every value name `nodes` read, inside their subgraphs too (an If branch may read an
    outer value without listing it as an input)."""
    import onnx

    names = set()
    for node in nodes:
        names.update(node.input)
        for attr in node.attribute:
            graphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
            for graph in graphs:
                names |= _names_read(graph.node)
    return names


def _shape_value(node, shape: list[int]) -> np.ndarray:
    if node.op_type == "Size":
        return np.array(int(np.prod(shape)), dtype=np.int64)
    attrs = {a.name: a.i for a in node.attribute}
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return np.array(shape[start:end], dtype=np.int64)


def _foldable(node, constant: set[str], derived: set[str], shapes: dict, seeds: set[str] = frozenset(),
              weights: set[str] = frozenset()) -> bool:
    """Whether `node` is shape arithmetic: a deterministic standard op that reads constants
    and at least one shape value (or integer Constant node: `derived` holds those too), with
    small results (a Reshape of a weight is left alone)."""
    if node.domain not in ("", "ai.onnx") or node.op_type in _NONDETERMINISTIC or not node.output:
        return False
    if any(a.g.node or a.graphs for a in node.attribute):  # If, Loop, Scan
        return False
    read = [name for name in node.input if name]
    if not (all(name in constant or name in derived for name in read) and any(name in derived for name in read)):
        return False
    if all(name in seeds or name not in derived for name in read) and any(name in weights for name in read):
        return False  # arithmetic on a weight and integer constants only (a bias reshaped): not shapes
    limit = MAX_FOLDED_ELEMENTS if any(name in weights for name in read) else MAX_COMPUTED_ELEMENTS
    if all(name in shapes for name in node.output):
        return all(np.prod(shapes[name]) <= limit for name in node.output)
    # ONNX's inference gives no shape to a Slice whose starts are themselves computed (the
    # TorchScript exporter's attention head split): ops whose result is no larger than what
    # they read are folded when everything they read is small
    return node.op_type in _NOT_GROWING and all(name in shapes and np.prod(shapes[name]) <= MAX_FOLDED_ELEMENTS
                                                 for name in read)


def fold_shape_arithmetic(proto, shapes: dict[str, list[int]]):
    """`proto` with the values its graph computes from static shapes replaced by Constant
    nodes (the same proto when there are none); `shapes` is `static_shapes(proto, ...)`."""
    import onnx
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    graph = proto.graph
    initializers = {init.name: init for init in graph.initializer}
    constants = constant_nodes(graph)
    constant = set(initializers) | set(constants)
    graph_outputs = {value.name for value in graph.output}
    values, evaluated, derived = {}, [], set()
    # Constant nodes seed the arithmetic as shapes do (the graph's own constants; weights are
    # initializers): the TorchScript exporter writes nn.MultiheadAttention's head split as
    # Slice(Shape(q), Reshape(Mod(c1, c2)), ...), whose index arithmetic reads only Constant
    # nodes, and Swin's attention masks from float Constant nodes; either would stay run-time
    # arithmetic otherwise
    seeds = set(constants)
    derived |= seeds
    for node in graph.node:
        if graph_outputs.intersection(node.output):  # the model's results stay the graph's
            continue
        if node.op_type in ("Shape", "Size") and node.domain in ("", "ai.onnx") and node.input[0] in shapes:
            values[node.output[0]] = _shape_value(node, shapes[node.input[0]])
        elif _foldable(node, constant, derived, shapes, seeds, set(initializers)):
            evaluated.append(node)
        else:
            continue
        derived.update(node.output)
    derived -= seeds  # they stay Constant nodes, nothing to compute
    kept = [node for node in graph.node if not derived.intersection(node.output)]
    read_by_kept = _names_read(kept)  # Constant nodes read nothing: the same once they go below
    # Constant nodes that only folded nodes read go with them
    unread = set(constants) - read_by_kept - graph_outputs
    kept = [node for node in kept if node.output[0] not in unread]
    needed = read_by_kept & derived
    if not needed:
        return proto
    wanted = sorted(needed - set(values))
    if wanted:
        # one run of ONNX's reference evaluator over the folded nodes and the constants they read
        read = _names_read(evaluated)
        sub = helper.make_graph(
            [constants[name] for name in sorted(read & set(constants))] + evaluated, "shape_arithmetic",
            [], [helper.make_empty_tensor_value_info(name) for name in wanted],
            [initializers[name] for name in sorted(read & set(initializers))]
            + [numpy_helper.from_array(values[name], name) for name in sorted(read & set(values))])
        model = helper.make_model(sub, opset_imports=proto.opset_import, ir_version=proto.ir_version)
        try:
            values.update(zip(wanted, ReferenceEvaluator(model).run(wanted, {})))
        except Exception:  # an op the reference evaluator lacks: TVM imports the graph as it is
            return proto
    result = onnx.ModelProto()
    result.CopyFrom(proto)
    del result.graph.node[:]
    # Constant nodes, not initializers: TVM makes every initializer a model parameter, and a
    # Reshape or Slice reading a parameter has a run-time shape again
    result.graph.node.extend(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
        np.asarray(values[name]), name)) for name in sorted(needed))
    result.graph.node.extend(kept)
    # drop the initializers that only folded nodes read (TVM would keep each as a model parameter)
    unused = set(initializers) - read_by_kept - graph_outputs
    _drop(result.graph.initializer, unused)
    _drop(result.graph.input, unused)
    return result


def _drop(repeated, names: set[str]):
    for i in reversed(range(len(repeated))):
        if repeated[i].name in names:
            del repeated[i]
