"""torchvision architectures, the default group: small models that compile in seconds,
by the TorchScript exporter, in the Model Zoo layout and by the dynamo exporter (the ViT
block in test_onnx_layouts covers attention). The other families are in the slow files."""
import pytest
from torchvision_cases import check_architecture

CASES = [(name, style) for name in ("resnet18", "squeezenet1_1") for style in ("torchscript", "initializers")] + [
    ("shufflenet_v2_x0_5", "initializers"), ("mobilenet_v3_small", "dynamo")]


@pytest.mark.parametrize("name,style", CASES)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
