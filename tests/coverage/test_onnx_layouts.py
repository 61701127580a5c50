"""ONNX files of every exporter and era: the layouts users' files come in, each compiled and
checked against ONNX Runtime (1e-4 relative), and what sedge cannot take refused in one line.

- initializers also listed as graph inputs (IR 3, the ONNX Model Zoo, older exporters,
  `keep_initializers_as_inputs=True`): weights, unless --input-shapes names one;
- opsets 7 to 21 (TorchScript exporter for 9..20, ONNX's version converter for the rest);
- the TorchScript and the torch.export-based (dynamo) exporters, a transformer block by both;
- weights in an external-data file; input names `data`, `input.1`, `0`.
"""
import numpy as np
import onnx
import pytest
import torch
from conftest import run_cli
from coverage_helpers import check_onnx

from sedge.errors import ModelImportError, UnsupportedOpError
from sedge.frontend.loaders import load_model
from sedge.frontend.loaders.tv_models import randomized
from sedge.frontend.onnx_export_styles import export


class SmallCnn(torch.nn.Module):
    """Conv + batch-norm + ReLU, a grouped conv with PReLU and a residual add, pools, a split
    and concat, nearest upsampling, an adaptive pool, a flatten and a linear layer."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8)
        self.c2, self.b2 = torch.nn.Conv2d(8, 8, 3, padding=1, groups=2), torch.nn.BatchNorm2d(8)
        self.prelu = torch.nn.PReLU(8)
        self.fc = torch.nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        y = torch.nn.functional.max_pool2d(torch.relu(self.b1(self.c1(x))), 2)
        z = self.prelu(self.b2(self.c2(y))) + y
        z = torch.cat([z[:, :4], torch.sigmoid(z[:, 4:])], 1)
        z = torch.nn.functional.interpolate(torch.nn.functional.avg_pool2d(z, 2), scale_factor=2, mode="nearest")
        z = torch.nn.functional.adaptive_avg_pool2d(z, 4)
        return torch.softmax(self.fc(z.reshape(z.shape[0], -1)), 1)


def small_cnn():
    torch.manual_seed(0)
    return randomized(SmallCnn()).eval()


def small_vit():
    """A two-layer vision transformer (torchvision's, 32x32, patch 8): attention, layer
    norms, GELU MLPs, class token."""
    from sedge.frontend.loaders import tv_models

    if not tv_models.available():
        pytest.skip("torchvision's model definitions are not installed: "
                    "python -m sedge.frontend.loaders.tv_models install")
    torch.manual_seed(0)
    net = tv_models.models().VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                               hidden_dim=32, mlp_dim=64, num_classes=10)
    return randomized(net).eval()


X = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def test_initializers_listed_as_inputs_are_weights(tmp_path):
    path = export(small_cnn(), X, str(tmp_path / "m.onnx"), "initializers", input_name="data")
    proto = onnx.load(path)
    listed = {v.name for v in proto.graph.input} & {i.name for i in proto.graph.initializer}
    assert "fc.weight" in listed  # the layout under test
    model = load_model(path)
    assert [s.name for s in model.inputs] == ["data"]
    assert int(model.mod["main"].attrs["num_input"]) == 1
    check_onnx(path, tmp_path)


def test_an_initializer_named_in_input_shapes_is_an_input(tmp_path):
    path = export(small_cnn(), X, str(tmp_path / "m.onnx"), "initializers", input_name="data")
    shapes = {"data": [1, 3, 16, 16], "fc.weight": [10, 128]}
    model = load_model(path, input_shapes=shapes)
    assert [s.name for s in model.inputs] == ["data", "fc.weight"]
    assert "fc.weight" not in model.param_names
    rng = np.random.default_rng(0)
    inputs = {"data": X.numpy(), "fc.weight": rng.standard_normal((10, 128)).astype(np.float32)}
    check_onnx(path, tmp_path, inputs=inputs, input_shapes=shapes)


def test_the_issue_command_compiles_and_verifies(tmp_path):
    """The failing command of issue 24: a keep_initializers_as_inputs file through the CLI."""
    path = export(small_cnn(), X, str(tmp_path / "m.onnx"), "initializers", input_name="input.1")
    compiled = run_cli("compile", path, "-o", tmp_path / "m.tar")
    assert compiled.returncode == 0, compiled.stderr
    ran = run_cli("run", tmp_path / "m.tar", "--verify")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1].endswith("PASS")


@pytest.mark.parametrize("opset", range(7, 22))
def test_opsets_7_to_21(opset, tmp_path):
    from onnx import version_converter

    path = str(tmp_path / "m.onnx")
    if 9 <= opset <= 20:  # TorchScript's exporter writes these (7, 8: no Upsample export of it)
        export(small_cnn(), X, path, "initializers" if opset < 11 else "torchscript", opset=opset)
        proto = onnx.load(path)
    else:
        export(small_cnn(), X, str(tmp_path / "base.onnx"), "torchscript", opset=9 if opset < 9 else 20)
        proto = version_converter.convert_version(onnx.load(str(tmp_path / "base.onnx")), opset)
    onnx.save(renamed_input(proto, "0"), path)  # old exporters named inputs by number
    assert onnx.load(path).opset_import[0].version == opset
    check_onnx(path, tmp_path)


def renamed_input(proto, name: str):
    """`proto` with its first input called `name` (torch refuses to name one "0")."""
    old = proto.graph.input[0].name
    proto.graph.input[0].name = name
    for node in proto.graph.node:
        node.input[:] = [name if i == old else i for i in node.input]
    return proto


@pytest.mark.parametrize("style", ["torchscript", "dynamo", "initializers"])
def test_vision_transformer_block(style, tmp_path):
    """Issue 24: the TorchScript-exported ViT stopped with 'IndexError: Index out of range',
    the dynamo one with std::bad_alloc."""
    if style == "dynamo":
        pytest.importorskip("onnxscript")
    path = export(small_vit(), torch.rand(1, 3, 32, 32), str(tmp_path / "vit.onnx"), style)
    check_onnx(path, tmp_path)


def test_dynamo_export_with_external_data(tmp_path):
    pytest.importorskip("onnxscript")
    path = str(tmp_path / "m.onnx")
    program = torch.onnx.export(small_cnn(), (X,), dynamo=True, input_names=["input"], verbose=False)
    program.save(path, external_data=True)
    assert [p.name for p in tmp_path.iterdir() if p.name != "m.onnx"]  # the weights file beside it
    check_onnx(path, tmp_path)


def test_external_data_written_by_onnx(tmp_path):
    base = export(small_cnn(), X, str(tmp_path / "base.onnx"), "torchscript", input_name="data")
    proto = onnx.load(base)
    path = tmp_path / "ext" / "m.onnx"
    path.parent.mkdir()
    onnx.save(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="m.weights",
              size_threshold=0)
    assert (path.parent / "m.weights").is_file()
    check_onnx(path, tmp_path)


def test_a_missing_external_data_file_is_one_line(tmp_path):
    base = export(small_cnn(), X, str(tmp_path / "base.onnx"), "torchscript")
    path = tmp_path / "m.onnx"
    onnx.save(onnx.load(base), str(path), save_as_external_data=True, location="gone.weights", size_threshold=0)
    (tmp_path / "gone.weights").unlink()
    with pytest.raises(ModelImportError, match="not a valid ONNX model"):
        load_model(str(path))
    compiled = run_cli("compile", path, "-o", tmp_path / "m.tar")
    assert compiled.returncode == 5 and len(compiled.stderr.strip().splitlines()) == 1, compiled.stderr


def _single_node_model(tmp_path, node, inputs, outputs, opset=18, initializers=()):
    from onnx import helper

    graph = helper.make_graph([node], "g", inputs, outputs, list(initializers))
    path = tmp_path / f"{node.op_type}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def test_an_unknown_op_is_named_in_one_line(tmp_path):
    from onnx import TensorProto, helper

    path = _single_node_model(tmp_path, helper.make_node("DFT", ["x"], ["y"]),
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 2])])
    with pytest.raises(UnsupportedOpError, match="DFT"):
        load_model(str(path))
    compiled = run_cli("compile", path, "-o", tmp_path / "m.tar")
    assert compiled.returncode == 5, compiled.stderr
    assert len(compiled.stderr.strip().splitlines()) == 1 and "DFT" in compiled.stderr and not compiled.stdout.strip()


def test_an_op_tvm_fails_on_is_named_in_one_line(tmp_path):
    """A converter's own failure names the op, and TVM's dump of its inputs stays off stdout."""
    from onnx import TensorProto, helper

    path = _single_node_model(tmp_path, helper.make_node("Expand", ["x", "shape"], ["y"]),
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 1]),
                               helper.make_tensor_value_info("shape", TensorProto.INT64, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 1])])
    compiled = run_cli("compile", path, "-o", tmp_path / "m.tar")
    assert compiled.returncode == 5, compiled.stderr
    assert len(compiled.stderr.strip().splitlines()) == 1 and "Expand" in compiled.stderr, compiled.stderr
    assert "internal error" not in compiled.stderr and not compiled.stdout.strip()
