"""torchvision's newer families (slow): EfficientNet (SE blocks, SiLU), ConvNeXt (7x7
depthwise, LayerNorm), Inception v3 and MnasNet, each exported two ways. (The ViT is
covered at small size in test_onnx_layouts.)"""
import pytest
from torchvision_cases import check_architecture

MODELS = ("efficientnet_b0", "convnext_tiny", "inception_v3", "mnasnet0_5")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
