"""Model-local ONNX functions that no converter knows: import them through their bodies.

A file may carry functions sedge has no converter for (a newer sedge's, or another tool's).
TVM's ONNX frontend cannot call functions, so such calls are inlined into their standard-op
bodies before import, and the Model gets a note saying which layers lost their construct.
"""
from sedge.frontend.onnx_ops import CONVERTERS


def inline_unconverted_functions(proto):
    """(proto with every call to a local function lacking a converter inlined, notes for the user)."""
    import onnx.inliner

    local = {(f.domain, f.name) for f in proto.functions}
    called = {(n.domain, n.op_type) for n in proto.graph.node if (n.domain, n.op_type) in local}
    unknown = sorted(key for key in called if key[1] not in CONVERTERS)
    if not unknown:
        return proto, []
    names = ", ".join(f"{domain}.{name}" for domain, name in unknown)
    note = (f"no sedge importer for the ONNX function(s) {names}: imported through their standard-op bodies, "
            f"so sedge's kernels do not apply to those layers")
    return onnx.inliner.inline_selected_functions(proto, unknown), [note]
