"""torchvision's model definitions, without torchvision's compiled operators.

sedge needs only the architectures (random weights, nothing downloaded) to test and
benchmark models nobody here wrote. The registry's torchvision wheels carry a `_C.so`
linked against the CUDA build of torch: beside the CPU torch here it does not load, and
`import torchvision` then stops in its `_meta_registrations` with "operator torchvision::nms
does not exist". Installing a torchvision that loads would mean a CUDA torch (gigabytes).

What is done instead:

- the wheel that pairs with the installed torch (torchvision 0.N+15 for torch 2.N) is
  installed with `pip install --no-deps --target DIR`, outside site-packages, so no other
  code (torch.onnx probes for torchvision) ever meets a torchvision that fails to import;
  `python -m sedge.frontend.loaders.tv_models install` does it (the coverage tests call it
  when the definitions are missing);
- `models()` imports `torchvision.models` from DIR under an empty parent package, so
  torchvision's `__init__` (the `_C` load and the operator registrations) never runs. The
  classification models are plain torch.nn code; torchvision.ops' Python layers they use
  (Conv2dNormActivation, SqueezeExcitation, StochasticDepth, MLP, Permute) need no `_C`.

DIR is $SEDGE_TORCHVISION_DIR, else `<sys.prefix>/torchvision-models` (inside the virtual
environment, so a fresh environment gets a fresh copy).
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from sedge.errors import SedgeError

PREFIX = "tv:"


def directory() -> Path:
    return Path(os.environ.get("SEDGE_TORCHVISION_DIR") or Path(sys.prefix) / "torchvision-models")


def requirement() -> str:
    """The torchvision release paired with the installed torch (2.13 -> 0.28)."""
    import torch

    major, minor = (int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    if major != 2:
        raise SedgeError(f"no known torchvision release pairs with torch {torch.__version__}")
    return f"torchvision==0.{minor + 15}.*"


def install(target: Path | None = None) -> Path:
    """pip-install the paired torchvision wheel, without its dependencies, into `target`."""
    target = Path(target or directory())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target",
                    str(target), requirement()], check=True)
    return target


def available() -> bool:
    return (directory() / "torchvision" / "models" / "__init__.py").is_file()


def models():
    """The `torchvision.models` module, imported without torchvision's compiled operators."""
    loaded = sys.modules.get("torchvision.models")
    if loaded is not None:
        return loaded
    package_dir = directory() / "torchvision"
    if not available():
        raise SedgeError(f"torchvision's model definitions are not installed in {directory()}; run "
                         f"`python -m sedge.frontend.loaders.tv_models install`")
    if "torchvision" not in sys.modules:
        # a package with a spec (torch.onnx's exporter probes it with importlib.util.find_spec)
        # but no code: torchvision/__init__.py is what loads _C and registers the operators
        spec = importlib.machinery.ModuleSpec("torchvision", None, is_package=True)
        spec.submodule_search_locations = [str(package_dir)]
        package = importlib.util.module_from_spec(spec)
        sys.modules["torchvision"] = package
    return importlib.import_module("torchvision.models")


def classification_names() -> list[str]:
    """Every classification architecture torchvision lists (alexnet ... wide_resnet101_2)."""
    module = models()
    return list(module.list_models(module=module))


def build(name: str, num_classes: int = 1000, seed: int = 0):
    """torchvision's `name` (tv:name accepted) with random weights, in eval mode."""
    import torch

    name = name.removeprefix(PREFIX)
    module = models()
    if name not in classification_names():
        raise SedgeError(f"unknown torchvision classification model '{name}'")
    torch.manual_seed(seed)
    kwargs = {"weights": None, "num_classes": num_classes}
    if name in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = False  # their scipy-based truncated-normal init is slow and needs scipy
    return randomized(module.get_model(name, **kwargs)).eval()


def randomized(net, seed: int = 0):
    """`net` with the weights that a fresh model starts constant made random: batch-norm
    statistics and affine factors (else each norm is an identity and folding them tests
    nothing) and the zero-initialised layers (a ViT's head: its output would be all zeros,
    and any answer would match)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) and layer.track_running_stats:
                layer.running_mean.copy_(0.1 * torch.randn(layer.running_mean.shape, generator=generator))
                layer.running_var.copy_(0.5 + torch.rand(layer.running_var.shape, generator=generator))
        for parameter in net.parameters():
            if parameter.numel() > 1 and bool((parameter == parameter.flatten()[0]).all()):
                parameter.copy_(parameter + 0.1 * torch.randn(parameter.shape, generator=generator))
    return net


if __name__ == "__main__":
    if sys.argv[1:] != ["install"]:
        sys.exit("usage: python -m sedge.frontend.loaders.tv_models install")
    print(f"installed {requirement()} (model definitions only) in {install()}")
