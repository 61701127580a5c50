"""torchvision classification architectures (random weights) exported the ways users' files
come, compiled by sedge and checked against ONNX Runtime on the same file (1e-4 relative).

torchvision's model definitions come from sedge.frontend.loaders.tv_models (the wheel
installed without its compiled ops); the first test that needs them installs them, once,
under a lock the test workers share. Sizes are the smallest input
each architecture takes: 64x64 where it can; AlexNet and VGG need 224 for the TorchScript
exporter's adaptive pool (7x7 / 6x6 from the features), Inception v3 at least 75, the ViT
is built for 64 (image_size), and MaxViT needs 224.
"""
import subprocess

import pytest
import torch
from coverage_helpers import check_onnx

from sedge.frontend.loaders import tv_models
from sedge.frontend.onnx_export_styles import export

SIZES = {"alexnet": 224, "vgg11": 224, "vgg11_bn": 224, "inception_v3": 96, "maxvit_t": 224}
BUILD_KWARGS = {"vit_b_32": {"image_size": 64}, "vit_b_16": {"image_size": 64}}


def _ensure_installed():
    """Install the model definitions unless present (pip reaches PyPI); a skip naming the
    command where pip cannot."""
    from filelock import FileLock

    with FileLock(str(tv_models.directory()) + ".lock"):
        if tv_models.available():
            return
        try:
            tv_models.install()
        except (OSError, subprocess.CalledProcessError) as err:
            pytest.skip(f"torchvision's model definitions could not be installed ({err}): "
                        "python -m sedge.frontend.loaders.tv_models install")


def build(name: str):
    _ensure_installed()
    if name in BUILD_KWARGS:
        torch.manual_seed(0)
        return tv_models.randomized(tv_models.models().get_model(name, weights=None, **BUILD_KWARGS[name])).eval()
    return tv_models.build(name)


def check_architecture(name: str, style: str, tmp_path) -> float:
    if style == "dynamo":
        pytest.importorskip("onnxscript")
    size = SIZES.get(name, 64)
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    path = export(build(name), x, str(tmp_path / f"{name}.onnx"), style)
    return check_onnx(path, tmp_path)
