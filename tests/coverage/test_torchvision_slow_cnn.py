"""torchvision CNN families beyond the default group (slow: each compiles in 10-60 s),
each exported two ways: the TorchScript exporter and the torch.export-based one."""
import pytest
from torchvision_cases import check_architecture

MODELS = ("resnet50", "resnext50_32x4d", "densenet121", "googlenet", "mnasnet0_5", "regnet_x_400mf",
          "regnet_y_400mf", "mobilenet_v3_large", "squeezenet1_0", "alexnet")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
