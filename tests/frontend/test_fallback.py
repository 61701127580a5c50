import numpy as np
import onnx
from onnx import TensorProto, helper

from sedge.contract import TensorSpec
from sedge.frontend.importers.fallback import inline_unconverted_functions
from sedge.frontend.loaders.onnx import from_onnx_proto


def _model_with_unknown_function():
    """y = acme.Twice(x), a local function whose body is Add(x, x)."""
    twice = helper.make_function("acme", "Twice", ["X"], ["Y"], [helper.make_node("Add", ["X", "X"], ["Y"])],
                                 [helper.make_opsetid("", 18)])
    graph = helper.make_graph([helper.make_node("Twice", ["x"], ["y"], domain="acme")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    return helper.make_model(graph, functions=[twice], ir_version=10,  # what ONNX Runtime reads
                             opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("acme", 1)])


def test_unknown_function_is_inlined_with_a_note():
    proto, notes = inline_unconverted_functions(_model_with_unknown_function())
    assert [n.op_type for n in proto.graph.node] == ["Add"]
    assert len(notes) == 1 and "acme.Twice" in notes[0]
    mod, params, _ = from_onnx_proto(proto, [TensorSpec("x", [2, 3])])
    import tvm
    from tvm import relax

    target = tvm.target.Target({"kind": "llvm"})
    vm = relax.VirtualMachine(tvm.compile(mod, target), tvm.cpu())
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert np.array_equal(vm["main"](tvm.runtime.tensor(x)).numpy(), 2 * x)


def test_known_functions_are_kept():
    proto = _model_with_unknown_function()
    proto.graph.node[0].op_type = proto.functions[0].name = "StructuredConv"
    kept, notes = inline_unconverted_functions(proto)
    assert notes == [] and kept.graph.node[0].op_type == "StructuredConv"


def test_the_cli_compiles_an_unknown_function_and_says_so(tmp_path):
    from conftest import run_cli

    onnx.save(_model_with_unknown_function(), tmp_path / "twice.onnx")
    compiled = run_cli("compile", tmp_path / "twice.onnx", "-o", tmp_path / "t.tar")
    assert compiled.returncode == 0, compiled.stderr
    assert "note: no sedge importer for the ONNX function(s) acme.Twice" in compiled.stdout
    ran = run_cli("run", tmp_path / "t.tar", "--verify")
    assert ran.returncode == 0 and "PASS" in ran.stdout, ran.stdout + ran.stderr
