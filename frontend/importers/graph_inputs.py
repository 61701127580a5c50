"""Which of an ONNX graph's inputs are the model's inputs, and which are its weights.

Before IR version 4 every initializer also had to be listed as a graph input (its stored
value a default the caller could override). The ONNX Model Zoo's files (IR 3, opsets 7-12),
older exporters and `torch.onnx.export(..., keep_initializers_as_inputs=True)` write that
layout. TVM's Relax frontend then declares each such weight twice in `main`'s signature,
once as an input and once as a kept parameter, and the first pass that builds a use-def
chain fails ("Variable fc_weight was used before its definition").

sedge treats them as what they are, weights, unless the user names one in --input-shapes:
that one becomes a real input (its stored value dropped) and every other stays a weight.
"""


def separate_weights(proto, input_shapes: dict):
    """`proto` with each initializer listed as a graph input taken out of the inputs, or,
    when --input-shapes names it, taken out of the initializers (the same proto when no
    initializer is listed as an input)."""
    import onnx

    initializers = {init.name for init in proto.graph.initializer}
    listed = {value.name for value in proto.graph.input} & initializers
    if not listed:
        return proto
    result = onnx.ModelProto()
    result.CopyFrom(proto)
    graph = result.graph
    overridden = listed & set(input_shapes)
    for i in reversed(range(len(graph.input))):
        if graph.input[i].name in listed - overridden:
            del graph.input[i]
    for i in reversed(range(len(graph.initializer))):
        if graph.initializer[i].name in overridden:
            del graph.initializer[i]
    # IR 4 is the first that lets an initializer stand outside the inputs
    result.ir_version = max(result.ir_version, 4)
    return result
