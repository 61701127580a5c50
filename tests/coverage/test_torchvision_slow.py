"""torchvision families beyond the default group (slow: each compiles in 10-60 s), each
exported two ways, the TorchScript exporter and the torch.export-based one: CNNs
(DenseNet's concats, GoogLeNet, RegNet, ResNeXt's grouped convs) and the newer families
(EfficientNet's SE blocks and SiLU, ConvNeXt's 7x7 depthwise and LayerNorm, Inception v3,
MnasNet). The ViT is covered at small size in test_onnx_layouts."""
import pytest
from torchvision_cases import check_architecture

MODELS = ("densenet121", "googlenet", "regnet_y_400mf", "resnext50_32x4d",
          "efficientnet_b0", "convnext_tiny", "inception_v3", "mnasnet0_5")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
