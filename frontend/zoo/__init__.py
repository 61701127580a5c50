"""The model zoo: the papers' architectures and compressed variants by name (configs.md).

`build(name, seed)` parses the name (names.py), picks the variant's layer factories
(variants.py) and builds the architecture with seeded random weights, in eval mode.
`PUBLISHED` lists the configurations of configs.md that `sedge zoo list` shows; any other
valid name builds too.
"""
import torch

from sedge.frontend.zoo import variants
from sedge.frontend.zoo.alexnet import AlexNet
from sedge.frontend.zoo.cifar_resnet import CifarResNet
from sedge.frontend.zoo.densenet import DenseNetBC
from sedge.frontend.zoo.factories import dense_conv, dense_linear
from sedge.frontend.zoo.mobilenetv2 import MobileNetV2
from sedge.frontend.zoo.names import ZooSpec, parse
from sedge.frontend.zoo.resnet import resnet
from sedge.frontend.zoo.wide_resnet import WideResNet

ARCHITECTURES = {
    "resnet": lambda spec, conv, linear: resnet(spec.depth, conv, linear, spec.width),
    "cifar_resnet": lambda spec, conv, linear: CifarResNet(spec.depth, conv, linear),
    "wrn": lambda spec, conv, linear: WideResNet(spec.depth, spec.width, conv, linear),
    "mobilenetv2": lambda spec, conv, linear: MobileNetV2(conv, linear),
    "densenet": lambda spec, conv, linear: DenseNetBC(spec.depth, spec.width, conv, linear),
    "alexnet": lambda spec, conv, linear: AlexNet(linear),
}

PUBLISHED = (
    "resnet18", "resnet50", "mobilenetv2", "resnet56", "wrn-40-2", "wrn-28-10", "wrn-50-2", "densenet-bc-40-48",
    "resnet18-struct-a", "resnet50-struct-a", "mobilenetv2-struct-a", "mobilenetv2-struct-b",
    "resnet56-csg-16x16-128", "resnet56-csg-8x8-128", "resnet56-csg-32x32-128", "resnet56-csg-12x12-72",
    "resnet56-csg-6x6-72", "resnet56-csg-24x24-72",
    "densenet-bc-40-48-csg-12x12-72", "densenet-bc-40-48-csg-6x6-72", "densenet-bc-40-48-csg-24x24-72",
    "densenet-bc-40-36-csg-12x12-72", "densenet-bc-40-36-csg-6x6-72", "densenet-bc-40-36-csg-24x24-72",
    "wrn-40-2-rf-0.5", "wrn-40-2-tt-0.5", "wrn-40-2-tucker-0.5", "wrn-40-2-hashed-0.25", "wrn-40-2-shuffle-4",
    "wrn-40-2-acdc", "wrn-28-10-shuffle-8",
    "resnet18-fft-50", "resnet56-fft-50",
    "alexnet", "alexnet-acdc",
)


def _factories(spec: ZooSpec):
    """(conv, linear, shared modules to register on the model) for the spec's variant."""
    if spec.variant == "struct":
        if spec.family == "mobilenetv2":
            table = variants.mv2_structured(spec.settings[0])
            return table.conv, table.linear, {}
        return variants.struct_a_conv, dense_linear, {}
    if spec.variant == "csg":
        csg = variants.CSG(*spec.settings)
        return csg.conv, dense_linear, {"csg_generator": csg.generator}
    if spec.variant == "substitute":
        return variants.substitute(*spec.settings), dense_linear, {}
    if spec.variant == "acdc" and spec.family == "alexnet":
        return dense_conv, variants.acdc_linear, {}
    if spec.variant in ("shuffle", "acdc"):
        return variants.substitute(spec.variant, spec.settings[0] if spec.settings else None), dense_linear, {}
    if spec.variant == "fft":
        return variants.band_limited(spec.settings[0]), dense_linear, {}
    return dense_conv, dense_linear, {}


def build(name: str, seed: int = 0) -> torch.nn.Module:
    """The zoo model `name` with weights drawn from torch's generator seeded with `seed`, in eval mode."""
    spec = parse(name)
    torch.manual_seed(seed)
    conv, linear, shared = _factories(spec)
    model = ARCHITECTURES[spec.family](spec, conv, linear)
    for attribute, module in shared.items():
        model.add_module(attribute, module)
    model.zoo_spec = spec
    return model.eval()
