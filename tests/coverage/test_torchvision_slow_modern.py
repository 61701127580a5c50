"""torchvision's newer families (slow): EfficientNets (SE blocks, SiLU), ConvNeXt (7x7
depthwise, LayerNorm), Inception v3, VGG, wide ResNet and a ViT, each exported two ways."""
import pytest
from torchvision_cases import check_architecture

MODELS = ("efficientnet_b0", "efficientnet_v2_s", "convnext_tiny", "inception_v3", "vgg11_bn",
          "wide_resnet50_2", "vit_b_32")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
