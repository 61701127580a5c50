"""Shape arithmetic in ONNX graphs folded to constants before TVM imports them."""
import numpy as np
import onnx
import pytest
import torch

from sedge.contract import TensorSpec
from sedge.frontend.importers.fold_shapes import fold_shape_arithmetic, fold_static, static_shapes
from sedge.frontend.loaders import load_model
from sedge.frontend.loaders.onnx import read_onnx


class _ChunkAndFlatten(torch.nn.Module):
    """What ShuffleNet v2 and many classifier heads export as Shape -> Gather -> Div -> Slice
    and Shape -> Gather -> Concat -> Reshape chains."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(6, 6, 1)
        self.fc = torch.nn.Linear(12 * 5 * 5, 3)

    def forward(self, x):
        kept, branch = x.chunk(2, dim=1)
        y = torch.cat([kept, torch.relu(self.conv(branch))], dim=1)
        return self.fc(y.view(y.size(0), -1))


@pytest.fixture(scope="module")
def chunk_onnx(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "chunk.onnx"
    torch.manual_seed(0)
    torch.onnx.export(_ChunkAndFlatten().eval(), (torch.rand(2, 12, 5, 5),), str(path), input_names=["x"],
                      dynamo=False, opset_version=17)
    return path


def test_shape_chains_become_constants(chunk_onnx):
    proto = read_onnx(str(chunk_onnx))
    assert {"Shape", "Gather"} <= {n.op_type for n in proto.graph.node}  # the exporter's chains
    folded = fold_shape_arithmetic(proto, static_shapes(proto, [TensorSpec("x", [2, 12, 5, 5])]))
    ops = [n.op_type for n in folded.graph.node]
    assert "Shape" not in ops and "Gather" not in ops and "Div" not in ops
    assert ops.count("Conv") == 1 and ops.count("Slice") == 2 and ops.count("Gemm") == 1
    onnx.checker.check_model(folded)
    # the weights stay initializers (model parameters), not folded copies
    assert {i.name for i in folded.graph.initializer} == {i.name for i in proto.graph.initializer}


def test_folded_model_imports_static_and_matches_torch(chunk_onnx):
    import tvm
    from tvm import relax

    model = load_model(str(chunk_onnx))
    script = model.mod.script()
    assert "dynamic_strided_slice" not in script and "ndim=" not in script
    executable = tvm.compile(model.mod, tvm.target.Target({"kind": "llvm"}))
    vm = relax.VirtualMachine(executable, tvm.cpu())
    x = np.random.default_rng(0).standard_normal((2, 12, 5, 5), dtype=np.float32)
    got = vm["main"](tvm.runtime.tensor(x), *[tvm.runtime.tensor(p) for p in model.params]).numpy()
    torch.manual_seed(0)
    want = _ChunkAndFlatten().eval()(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


class _FlattenPerSample(torch.nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


def test_input_shapes_given_by_the_user_decide_the_constants(tmp_path):
    """A batch dimension left dynamic in the file: the folded Reshape takes --input-shapes' batch."""
    path = tmp_path / "flat.onnx"
    torch.onnx.export(_FlattenPerSample(), (torch.rand(2, 3, 2),), str(path), input_names=["x"], dynamo=False,
                      dynamic_axes={"x": {0: "batch"}})
    assert "Shape" in {n.op_type for n in read_onnx(str(path)).graph.node}
    model = load_model(str(path), input_shapes={"x": [4, 3, 2]})
    assert 'R.Tensor((4, 6), dtype="float32")' in model.mod.script()


def test_a_graph_the_reference_evaluator_cannot_run_is_imported_as_it_is(chunk_onnx, monkeypatch):
    from onnx.reference import ReferenceEvaluator

    def refuse(*_args, **_kwargs):
        raise NotImplementedError("no reference implementation")

    monkeypatch.setattr(ReferenceEvaluator, "run", refuse)
    proto = read_onnx(str(chunk_onnx))
    assert fold_shape_arithmetic(proto, static_shapes(proto, [TensorSpec("x", [2, 12, 5, 5])])) is proto


class _WindowPad(torch.nn.Module):
    """Swin's shifted-window padding and attention mask: the pad is `(w - W % w) % w`, and
    everything after it is shaped by it. ONNX's data propagation stops at Mod, so no later
    shape was known and TVM stopped at 'Dynamic pads are not supported yet'; the mask is
    built from zeros by slice assignments, which TVM's FoldConstant compiled op by op."""

    def forward(self, x):
        _, height, width, _ = x.shape
        x = torch.nn.functional.pad(x, (0, 0, 0, (4 - width % 4) % 4, 0, (4 - height % 4) % 4))
        _, height, width, channels = x.shape
        windows = x.view(1, height // 4, 4, width // 4, 4, channels).permute(0, 1, 3, 2, 4, 5)
        windows = windows.reshape(-1, 16, channels)
        mask = x.new_zeros((height, width))
        mask[-2:, :] = 1.0
        mask[:, -2:] += 2.0
        mask = mask.view(height // 4, 4, width // 4, 4).permute(0, 2, 1, 3).reshape(-1, 16)
        mask = mask.unsqueeze(1) - mask.unsqueeze(2)
        mask = mask.masked_fill(mask != 0, -100.0)
        return (windows @ windows.transpose(1, 2) + mask).softmax(-1)


def test_shapes_past_a_mod_are_measured_and_the_window_padding_folds(tmp_path):
    path = tmp_path / "window.onnx"
    x = torch.rand(1, 7, 6, 3)
    torch.onnx.export(_WindowPad(), (x,), str(path), input_names=["x"], dynamo=False, opset_version=17)
    proto = read_onnx(str(path))
    assert {"Mod", "ScatterND"} <= {n.op_type for n in proto.graph.node}
    inputs = [TensorSpec("x", [1, 7, 6, 3])]
    folded = fold_static(proto, inputs, static_shapes(proto, inputs))
    left = {n.op_type for n in folded.graph.node}
    assert not {"Shape", "Mod", "ScatterND", "ConstantOfShape"} & left, left
    import tvm
    from tvm import relax

    model = load_model(str(path))
    executable = tvm.compile(model.mod, tvm.target.Target({"kind": "llvm"}))
    got = relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(x.numpy())).numpy()
    np.testing.assert_allclose(got, _WindowPad()(x).numpy(), rtol=1e-5, atol=1e-6)
