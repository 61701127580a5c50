"""Per-layer records: MACs, adds and bytes counted from the imported Relax module."""
import torch

from sedge.frontend.loaders import load_model
from sedge.tvm_passes.layer_records import layer_records


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.dw = torch.nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.fc = torch.nn.Linear(8, 5)

    def forward(self, x):
        y = self.dw(torch.relu(self.conv(x)))
        return self.fc(torch.nn.functional.adaptive_avg_pool2d(y, 1).flatten(1))


def _records(tmp_path, fmt):
    net, x = _Net().eval(), torch.rand(1, 3, 16, 16)
    if fmt == "onnx":
        path = tmp_path / "n.onnx"
        torch.onnx.export(net, (x,), str(path), input_names=["x"], dynamo=False)
    else:
        path = tmp_path / "n.pt2"
        torch.export.save(torch.export.export(net, (x,)), str(path))
    return {r.op: r for r in layer_records(load_model(str(path)).mod)}, layer_records(load_model(str(path)).mod)


def test_counts_from_onnx_and_pt2_agree(tmp_path):
    for fmt in ("onnx", "pt2"):
        by_op, records = _records(tmp_path, fmt)
        conv = by_op["conv2d"]
        assert conv.output_shape == [1, 8, 8, 8] and conv.weight_shapes[0] == [8, 3, 3, 3]
        assert conv.macs == 8 * 8 * 8 * 3 * 9 and conv.weight_bytes == 8 * 3 * 9 * 4
        assert conv.input_bytes == 3 * 16 * 16 * 4 and conv.output_bytes == 8 * 8 * 8 * 4
        assert conv.attrs["strides"] == [2, 2] and conv.attrs["padding"] == [1, 1, 1, 1]
        dw = by_op["depthwise_conv2d"]
        assert dw.macs == 8 * 8 * 8 * 9 and dw.attrs["groups"] == 8
        dense = by_op["dense"]
        assert dense.macs == 8 * 5 and dense.weight_bytes == 8 * 5 * 4  # transposed weight still a weight
        assert any(r.op == "pool" and r.adds == 8 * 8 * 8 for r in records)
        names = [r.name for r in records]
        assert len(names) == len(set(names))
