"""torchvision architectures, the default group: one small model per family that compiles
in seconds, each exported two ways (TorchScript and the Model Zoo layout; the ViT block in
test_onnx_layouts covers the dynamo exporter on attention). The rest are in the slow files."""
import pytest
from torchvision_cases import check_architecture

CASES = [(name, style) for name in ("resnet18", "mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x0_5")
         for style in ("torchscript", "initializers")] + [("mobilenet_v3_small", "dynamo")]


@pytest.mark.parametrize("name,style", CASES)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
