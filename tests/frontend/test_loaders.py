"""Loading ONNX and torch.export files into Relax, with shapes and references."""
import numpy as np
import pytest
import torch

from sedge.errors import SedgeError
from sedge.frontend.loaders import guess_format, load_model
from sedge.frontend.reference import reference_outputs


class _Dynamic(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) * 2


@pytest.fixture(scope="module")
def dynamic_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "dyn.onnx"
    torch.onnx.export(_Dynamic(), (torch.rand(1, 8),), str(path), input_names=["x"], dynamo=False,
                      dynamic_axes={"x": {0: "batch"}})
    return path


def test_onnx_inputs_params_and_source(resnet_onnx):
    model = load_model(str(resnet_onnx))
    assert [(s.name, s.shape, s.dtype) for s in model.inputs] == [("input", [1, 3, 32, 32], "float32")]
    assert int(model.mod["main"].attrs["num_input"]) == 1
    assert len(model.params) == len(model.param_names) == len(model.mod["main"].params) - 1
    assert model.source["format"] == "onnx"


def test_pt2_inputs(resnet_pt2):
    model = load_model(str(resnet_pt2))
    assert model.inputs[0].shape == [1, 3, 32, 32] and model.source["format"] == "pytorch"
    assert int(model.mod["main"].attrs["num_input"]) == 1


def test_dynamic_onnx_needs_and_takes_input_shapes(dynamic_onnx):
    with pytest.raises(SedgeError, match="dynamic shape"):
        load_model(str(dynamic_onnx))
    model = load_model(str(dynamic_onnx), input_shapes={"x": [4, 8]})
    assert model.inputs[0].shape == [4, 8]
    with pytest.raises(SedgeError, match="unknown input"):
        load_model(str(dynamic_onnx), input_shapes={"x": [4, 8], "y": [4, 8]})


def test_pt2_static_shape_mismatch_is_refused(resnet_pt2):
    with pytest.raises(SedgeError, match="exported for"):
        load_model(str(resnet_pt2), input_shapes={"x": [2, 3, 32, 32]})


def test_format_guessing():
    assert guess_format("a.onnx") == "onnx" and guess_format("b.pt2") == "pytorch"
    assert guess_format("zoo:resnet18") == "zoo"
    with pytest.raises(SedgeError, match="--model-format"):
        guess_format("c.tflite")


def test_reference_detects_a_changed_source(resnet_onnx, tmp_path):
    copy = tmp_path / "m.onnx"
    copy.write_bytes(resnet_onnx.read_bytes())
    source = load_model(str(copy)).source
    x = {"input": np.zeros((1, 3, 32, 32), np.float32)}
    assert reference_outputs(source, x)[0].shape == (1, 10)
    copy.write_bytes(copy.read_bytes() + b"\0")
    with pytest.raises(SedgeError, match="changed since the package was compiled"):
        reference_outputs(source, x)


def test_a_failing_reference_engine_is_a_user_error(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    path = tmp_path / "new.onnx"
    onnx.save(helper.make_model(graph, ir_version=99, opset_imports=[helper.make_opsetid("", 18)]), path)
    import hashlib

    source = {"format": "onnx", "path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    with pytest.raises(SedgeError, match="reference engine failed on the source model"):
        reference_outputs(source, {"x": np.zeros(2, np.float32)})


@pytest.mark.parametrize("low", [0, -5])
def test_onnx_integer_initializers_are_structure_not_weights(tmp_path, capfd, low):
    """A hashed layer's weight matrix gathered from its real weights by a stored index map:
    the index map is bound as a constant, so the compiled gather is checked, prints no
    warning from TVM's unchecked take, and matches ONNX Runtime; the real weights stay
    weights. TVM's import wraps the indices, where(i < 0, i + n, i): gone when no index is
    negative, kept (and folded) when some are."""
    from onnx import TensorProto, helper, numpy_helper

    import sedge

    rng = np.random.default_rng(0)
    real = numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "real")
    index = numpy_helper.from_array(rng.integers(low, 5, (8, 6)).astype(np.int64), "index")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["real", "index"], ["w"], axis=0), helper.make_node("MatMul", ["x", "w"], ["y"])],
        "hashed", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])], [real, index])
    path = tmp_path / "hashed.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
                     .SerializeToString())
    model = load_model(str(path))
    assert model.param_names == ["real"] and len(model.params) == 1
    assert ("R.where" in model.mod["main"].script()) == (low < 0)
    package = sedge.compile(model, sedge.CompileOptions(output=str(tmp_path / "hashed.tar")))
    x = {"x": rng.standard_normal((2, 8)).astype(np.float32)}
    assert sedge.verify(package, x, sedge.run(package, sedge.RunOptions(inputs=x)).outputs).passed
    assert "Fast mode" not in capfd.readouterr().err  # TVM's warning comes from C++, on stderr
