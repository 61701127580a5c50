"""Shared fixtures: small models exported from torch, and the CLI run as a user runs it."""
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the environment's console scripts: sedge, tvmc


def run_cli(*args, program="sedge", cwd=None, timeout=600):
    """Run `sedge ...` (or `tvmc ...`) in a subprocess; returns the CompletedProcess."""
    return subprocess.run([str(BIN / program), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


@pytest.fixture(scope="session")
def resnet_onnx(tmp_path_factory):
    """A ResNet-style CNN (the demo's DemoNet) exported to ONNX at 1x3x32x32."""
    import torch

    from sedge.frontend.demo_model import demo_model
    from sedge.frontend.export import export_onnx

    path = tmp_path_factory.mktemp("models") / "resnet.onnx"
    export_onnx(demo_model(), torch.rand(1, 3, 32, 32), str(path))
    return path


@pytest.fixture(scope="session")
def resnet_pt2(tmp_path_factory):
    """The same CNN as a torch.export program."""
    import torch

    from sedge.frontend.demo_model import demo_model

    path = tmp_path_factory.mktemp("models") / "resnet.pt2"
    torch.export.save(torch.export.export(demo_model(), (torch.rand(1, 3, 32, 32),)), str(path))
    return path


@pytest.fixture(scope="session")
def compiled_resnet(resnet_onnx, tmp_path_factory):
    """The ONNX CNN compiled for the host, through the Python API."""
    import sedge

    out = tmp_path_factory.mktemp("packages") / "resnet.tar"
    return sedge.compile(sedge.load(str(resnet_onnx)), sedge.CompileOptions(output=str(out)))
