"""Files from before opset 11 (ONNX Model Zoo era, opsets 1-10), upgraded before import.

TVM's Relax ONNX frontend implements most operators from the versions of opset 11 on:
Upsample (opsets 7-9), Resize-10 (scales without roi), the attribute forms of Pad, Slice
and friends fail there with messages such as "Cannot cast NoneType to list of Expr". ONNX's
own version converter rewrites such a graph to opset UPGRADE_TO with the same meaning, op
by op; sedge imports that. The file itself is untouched: `--verify` still runs the original
in ONNX Runtime. Where the converter has no adapter, the graph is imported as it is and
TVM's error (one line) says which op it could not take.
"""
UPGRADE_BELOW = 11
UPGRADE_TO = 13


def default_opset(proto) -> int | None:
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)


def upgrade_old_opset(proto):
    """(proto at opset UPGRADE_TO, None) for a graph older than UPGRADE_BELOW, else (proto, None);
    (proto, note) when the converter cannot upgrade it."""
    from onnx import version_converter

    opset = default_opset(proto)
    if opset is None or opset >= UPGRADE_BELOW:
        return proto, None
    if opset < 7:
        proto = _channel_slopes(proto)
    try:
        return version_converter.convert_version(proto, UPGRADE_TO), None
    except Exception as err:  # no adapter for some op: TVM gets the graph as written
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return proto, (f"ONNX's version converter could not upgrade opset {opset} to {UPGRADE_TO} ({first}); "
                       "imported as written")


def _channel_slopes(proto):
    """`proto` (opset < 7) with each PRelu's 1-D slope of C > 1 values reshaped to (C, 1, ...).

    Before opset 7 a 1-D slope ran along the channels (axis 1); from opset 7 on it
    broadcasts numpy-style from the last axis. The version converter keeps the slope as it
    is, so an upgraded (2, 3, 4, 5) input with a (3,) slope would be a broken graph (TVM:
    an assertion in its prelu kernel); reshaped, the slope means the same in every opset."""
    import onnx

    initializers = {init.name: init for init in proto.graph.initializer}
    inferred = onnx.shape_inference.infer_shapes(proto)
    ranks = {v.name: len(v.type.tensor_type.shape.dim)
             for v in [*inferred.graph.input, *inferred.graph.value_info] if v.type.tensor_type.HasField("shape")}
    result = None
    for node in proto.graph.node:
        if node.op_type != "PRelu" or len(node.input) < 2 or node.input[1] not in initializers:
            continue
        slope, rank = initializers[node.input[1]], ranks.get(node.input[0], 0)
        if len(slope.dims) == 1 and slope.dims[0] > 1 and rank >= 3:
            if result is None:
                result = onnx.ModelProto()
                result.CopyFrom(proto)
                initializers = {init.name: init for init in result.graph.initializer}
                slope = initializers[node.input[1]]
            slope.dims.extend([1] * (rank - 2))
            for value in result.graph.input:
                if value.name == slope.name:
                    value.type.tensor_type.shape.dim.extend(
                        onnx.TensorShapeProto.Dimension(dim_value=1) for _ in range(rank - 2))
    return result or proto
