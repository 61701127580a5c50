import pytest
import torch

from sedge.errors import SedgeError
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear
from sedge.frontend.zoo import PUBLISHED, build
from sedge.frontend.zoo.cost import layer_costs, parameter_count
from sedge.frontend.zoo.names import parse

# configs.md / methods.md reference counts
REFERENCE_PARAMS = {
    "resnet18": 11_689_512, "resnet50": 25_557_032, "mobilenetv2": 3_504_872, "resnet56": 853_018,
    "wrn-40-2": 2_243_546, "wrn-28-10": 36_479_194, "densenet-bc-40-48": 2_733_130,
    "resnet56-csg-16x16-128": 347_162,
}
REFERENCE_MACS = {"resnet18": (1.814e9, 0.0005), "resnet56": (125.5e6, 0.0005)}


@pytest.mark.parametrize("name", sorted(REFERENCE_PARAMS))
def test_parameter_counts_equal_the_references(name):
    assert parameter_count(build(name)) == REFERENCE_PARAMS[name]


@pytest.mark.parametrize("name", sorted(REFERENCE_MACS))
def test_macs_match_the_references(name):
    model = build(name)
    macs = sum(layer.macs for layer in layer_costs(model, model.zoo_spec.input_shape))
    expected, tolerance = REFERENCE_MACS[name]
    assert abs(macs - expected) / expected < tolerance


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_configurations_build(name):
    model = build(name)
    assert not model.training and parameter_count(model) > 0


def test_mobilenetv2_struct_tables_hit_the_listed_layers():
    model = build("mobilenetv2-struct-b")
    structured = [m for m in model.modules() if isinstance(m, StructuredConv2d)]
    # configs.md: layer 6 is 24x96 with c = 48, layer 17 the first depthwise with n = 2, layer 52 1280x320 c = 160
    assert (structured[0].out_channels, structured[0].in_channels, structured[0].c) == (24, 96, 48)
    first_dw = next(m for m in structured if m.groups > 1)
    assert (first_dw.in_channels, first_dw.n) == (192, 2)
    last = [m for m in structured if m.out_channels == 1280][0]
    assert (last.in_channels, last.c) == (320, 160)
    assert isinstance(model.classifier[1], StructuredLinear) and model.classifier[1].conv.c == 560
    a = build("mobilenetv2-struct-a")
    assert [(m.in_channels, m.c) for m in a.modules() if isinstance(m, StructuredConv2d)] == \
        [(960, 840), (320, 160), (1280, 640)]


def test_struct_a_replaces_every_3x3_but_the_stem():
    model = build("resnet18-struct-a")
    assert isinstance(model.conv1, torch.nn.Conv2d)
    convs3 = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert convs3 == []
    assert all(m.n == 2 and m.c == m.in_channels for m in model.modules() if isinstance(m, StructuredConv2d))


def test_names_parse_any_valid_setting():
    spec = parse("wrn-16-4-tucker-0.3")
    assert (spec.family, spec.depth, spec.width, spec.variant, spec.settings) == ("wrn", 16, 4, "substitute",
                                                                                   ("tucker", 0.3))
    assert parse("resnet20-csg-4x8-16").settings == (4, 8, 16)
    assert parse("wrn-50-2").family == "resnet"


def test_structured_adds_are_counted_apart_from_macs():
    model = build("resnet56-struct-a")
    costs = layer_costs(model, model.zoo_spec.input_shape)
    structured = [c for c in costs if c.kind == "StructuredConv2d"]
    assert structured and all(c.adds > 0 for c in structured)
    assert all(c.adds == 0 for c in costs if c.kind == "Conv2d")


@pytest.mark.parametrize("name,message", [
    ("resnet57", "6k\\+2"), ("vgg16", "unknown zoo model"), ("resnet18-struct-b", "mobilenetv2 only"),
    ("wrn-40-2-rf-1.5", "0 < s <= 1"), ("resnet56-csg-0x16-128", "s0 >= 1"), ("resnet18-fft-100", "rate < 100"),
    ("wrn-41-2", "6k\\+4"), ("resnet56-foo", "unknown variant"),
])
def test_bad_names_give_one_line_errors(name, message):
    with pytest.raises(SedgeError, match=message) as err:
        build(name)
    assert "\n" not in str(err.value)


def test_alexnet_acdc_replaces_fc6_and_fc7_with_12_factor_stacks():
    from sedge.frontend.layers.acdc import ACDC

    dense, acdc = build("alexnet"), build("alexnet-acdc")
    # 2,469,696 conv + 2 x (4096 x 4096 + 4096) + 4096 x 1000 + 1000
    assert parameter_count(dense) == 40_129_320
    # the two stacks: 12 factors x (A, D, bias) x 4096 each
    assert parameter_count(acdc) == 40_129_320 - 2 * (4096 * 4096 + 4096) + 2 * 12 * 3 * 4096
    stacks = [m for m in acdc.modules() if isinstance(m, ACDC)]
    assert [(m.N, m.factors, m.bias is not None) for m in stacks] == [(4096, 12, True)] * 2
    assert isinstance(acdc.classifier[-1], torch.nn.Linear)  # FC8 stays dense
    costs = layer_costs(acdc, acdc.zoo_spec.input_shape)
    assert [c.kind for c in costs] == ["Conv2d"] * 5 + ["ACDC", "ACDC", "Linear"]
    assert costs[5].output_shape == [1, 4096]
    with torch.no_grad():
        assert acdc(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


def test_alexnet_takes_only_its_fc_variant():
    with pytest.raises(SedgeError, match="alexnet takes the variants acdc only"):
        parse("alexnet-csg-8x8-16")
