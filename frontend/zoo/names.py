"""Zoo names -> what to build: `<base>[-<variant>]`, settings parsed from the name (configs.md)."""
import re
from dataclasses import dataclass

from sedge.errors import SedgeError
from sedge.frontend.layers.settings import require_float_range, require_int_range

IMAGENET_RESNETS = (18, 34, 50, 101, 152)

BASE_FORMS = ("resnet18|34|50|101|152 (ImageNet)", "resnet<6k+2> (CIFAR, e.g. resnet56)",
              "wrn-<6k+4>-<width> (CIFAR, e.g. wrn-40-2)", "wrn-50-<width> (ImageNet, e.g. wrn-50-2)", "mobilenetv2",
              "densenet-bc-<6k+4>-<growth> (CIFAR, e.g. densenet-bc-40-48)",
              "alexnet (ImageNet, FC6 on a 4x4 pool: 4096 -> 4096)")
VARIANT_FORMS = ("struct-a", "struct-b (mobilenetv2 only)", "csg-<s0>x<s1>-<K>", "rf-<s>", "tt-<s>", "tucker-<s>",
                 "hashed-<ratio>", "shuffle-<g>", "acdc", "fft-<rate>")
# variants an architecture without 3x3 convs to substitute takes: AlexNet's are on its FC layers
FC_VARIANTS = {"alexnet": ("acdc",)}

_BASE = re.compile(r"^(?P<base>resnet\d+|wrn-\d+-\d+|mobilenetv2|densenet-bc-\d+-\d+|alexnet)(?:-(?P<variant>.+))?$")
_NUMBER = r"(\d+(?:\.\d+)?)"
_VARIANTS = {
    "struct": re.compile(r"^struct-(?P<letter>[ab])$"),
    "csg": re.compile(r"^csg-(?P<s0>\d+)x(?P<s1>\d+)-(?P<k>\d+)$"),
    "substitute": re.compile(rf"^(?P<method>rf|tt|tucker|hashed)-(?P<setting>{_NUMBER})$"),
    "shuffle": re.compile(r"^shuffle-(?P<g>\d+)$"),
    "acdc": re.compile(r"^acdc$"),
    "fft": re.compile(rf"^fft-(?P<rate>{_NUMBER})$"),
}


@dataclass(frozen=True)
class ZooSpec:
    name: str
    family: str  # resnet | cifar_resnet | wrn | mobilenetv2 | densenet | alexnet
    depth: int
    width: int  # WRN widen factor / DenseNet growth rate / 1
    variant: str  # "" for the base model, else the key of _VARIANTS
    settings: tuple  # the variant's parsed settings
    input_shape: tuple
    num_classes: int


def unknown(name: str, why: str = "") -> SedgeError:
    reason = f" ({why})" if why else ""
    return SedgeError(f"unknown zoo model '{name}'{reason}; names are <base>[-<variant>] with base one of "
                      f"{', '.join(BASE_FORMS)} and variant one of {', '.join(VARIANT_FORMS)}; see `sedge zoo list`")


def _base(name: str, base: str):
    """(family, depth, width, input shape, classes) of a base name, or a one-line error."""
    numbers = [int(v) for v in re.findall(r"\d+", base.replace("mobilenetv2", ""))]
    if base == "mobilenetv2":
        return "mobilenetv2", 0, 1, (1, 3, 224, 224), 1000
    if base == "alexnet":
        return "alexnet", 8, 1, (1, 3, 224, 224), 1000
    if base.startswith("resnet"):
        depth = numbers[0]
        if depth in IMAGENET_RESNETS:
            return "resnet", depth, 1, (1, 3, 224, 224), 1000
        if depth < 8 or (depth - 2) % 6:
            raise unknown(name, f"a CIFAR ResNet depth is 6k+2 >= 8 and an ImageNet one is one of {IMAGENET_RESNETS}")
        return "cifar_resnet", depth, 1, (1, 3, 32, 32), 10
    depth, width = numbers[-2:]
    require_int_range("width", width, 1)
    if base.startswith("wrn") and depth == 50:
        return "resnet", 50, width, (1, 3, 224, 224), 1000
    if depth < 10 or (depth - 4) % 6:
        raise unknown(name, "the depth of a CIFAR WRN or DenseNet-BC is 6k+4 >= 10")
    return ("wrn" if base.startswith("wrn") else "densenet"), depth, width, (1, 3, 32, 32), 10


def _settings(name: str, family: str, variant: str):
    for key, pattern in _VARIANTS.items():
        match = pattern.match(variant)
        if not match:
            continue
        groups = match.groupdict()
        if key == "struct":
            if family == "mobilenetv2" or groups["letter"] == "a":
                return key, (groups["letter"],)
            raise unknown(name, "struct-b is published for mobilenetv2 only")
        if key == "csg":
            return key, (require_int_range("s0", int(groups["s0"]), 1), require_int_range("s1", int(groups["s1"]), 1),
                         require_int_range("K", int(groups["k"]), 1))
        if key == "substitute":
            label = "ratio" if groups["method"] == "hashed" else "s"
            setting = require_float_range(label, float(groups["setting"]), 0, 1, low_open=True)
            return key, (groups["method"], setting)
        if key == "shuffle":
            return key, (require_int_range("g", int(groups["g"]), 1),)
        if key == "fft":
            return key, (require_float_range("rate", float(groups["rate"]), 0, 100, high_open=True),)
        return key, ()
    raise unknown(name, f"unknown variant '{variant}'")


def dense_parent(name: str) -> str | None:
    """The dense base model of a compressed zoo name (`resnet18-struct-a` -> `resnet18`), else None."""
    match = _BASE.match(name.strip().lower().removeprefix("zoo:"))
    return match["base"] if match and match["variant"] else None


def parse(name: str) -> ZooSpec:
    match = _BASE.match(name.strip().lower())
    if not match:
        raise unknown(name)
    family, depth, width, shape, classes = _base(name, match["base"])
    variant, settings = _settings(name, family, match["variant"]) if match["variant"] else ("", ())
    if family in FC_VARIANTS and variant and variant not in FC_VARIANTS[family]:
        raise unknown(name, f"{family} takes the variants {', '.join(FC_VARIANTS[family])} only")
    return ZooSpec(name.strip().lower(), family, depth, width, variant, settings, shape, classes)
