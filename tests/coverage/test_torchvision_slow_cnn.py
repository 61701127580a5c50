"""torchvision CNN families beyond the default group (slow: each compiles in 10-60 s; CI's 25-minute budget holds four),
each exported two ways: the TorchScript exporter and the torch.export-based one."""
import pytest
from torchvision_cases import check_architecture

MODELS = ("densenet121", "googlenet", "regnet_y_400mf", "resnext50_32x4d")


@pytest.mark.slow
@pytest.mark.parametrize("style", ["torchscript", "dynamo"])
@pytest.mark.parametrize("name", MODELS)
def test_architecture(name, style, tmp_path):
    check_architecture(name, style, tmp_path)
