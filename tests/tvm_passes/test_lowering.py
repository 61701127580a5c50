"""The per-layer lowering choice (tvm_passes/lowering.py): the decision, ChooseLowering's marks,
the records, `--lowering` and `--explain` as a user runs them."""
import json
import tarfile

import pytest
import torch
import tvm
from compiled_models import HOST, imported
from conftest import run_cli
from tvm import relax

from sedge.errors import SedgeError
from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.structured import StructuredConv2d
from sedge.tvm_passes.layer_records import layer_records
from sedge.tvm_passes.lowering import (
    LAYER_ATTR,
    LOWERING_ATTR,
    Option,
    choose_lowering,
    decide,
    decisions,
    parse_lowering,
    with_overrides,
)
from sedge.tvm_passes.structured_cost import StructuredLayer, structured_options


def _options(*times):
    return [Option(name, 1, 0, 4, t) for name, t in zip(("fold", "sumpool+conv", "generic"), times)]


def test_the_cheapest_option_is_chosen_with_its_reason():
    decision = decide("StructuredConv_0", "StructuredConv", _options(30.0, 12.5, 40.0))
    assert decision.choice == "sumpool+conv" and not decision.forced
    assert decision.reason == "sumpool+conv: ~12.5 us vs fold ~30 us; generic ~40 us"
    assert decide("L", "StructuredConv", _options(5.0, 5.0)).choice == "fold", "a tie goes to the first listed"


def test_a_forced_option_wins_and_an_unknown_one_is_refused():
    decision = decide("StructuredConv_0", "StructuredConv", _options(1.0, 2.0), forced="sumpool+conv")
    assert decision.choice == "sumpool+conv" and decision.forced
    with pytest.raises(SedgeError, match=r"StructuredConv_0=winograd: StructuredConv_0 \(StructuredConv\) can be "
                                         r"lowered as fold, sumpool\+conv$"):
        decide("StructuredConv_0", "StructuredConv", _options(1.0, 2.0), forced="winograd")


def test_lowering_flags_parse():
    assert parse_lowering(["StructuredConv_3=fold", "all=sumpool+conv"]) == {
        "StructuredConv_3": "fold", "all": "sumpool+conv"}
    assert parse_lowering("ACDC_0=factored, ACDC_1=fold") == {"ACDC_0": "factored", "ACDC_1": "fold"}
    for bad in ("fold", "=fold", "ACDC_0="):
        with pytest.raises(SedgeError, match="expected LAYER=CHOICE or all=CHOICE"):
            parse_lowering([bad])


def _two_layers():
    torch.manual_seed(0)
    return torch.nn.Sequential(StructuredConv2d(16, 16, 3, 16, 2, padding=1),
                               StructuredConv2d(16, 16, 3, 16, 2, padding=1))


def test_every_call_gets_its_own_marked_construct(tmp_path):
    """Two layers of one shape share one construct function after import; each call is marked
    on its own copy, so that --lowering can treat them apart."""
    mod, _ = imported(_two_layers(), torch.randn(1, 16, 8, 8), tmp_path)
    with HOST:
        marked = choose_lowering(HOST)(with_overrides(mod, {"StructuredConv_1": "fold"}))
    constructs = {f.attrs[LAYER_ATTR]: f.attrs[LOWERING_ATTR] for f in marked.functions.values()
                  if isinstance(f, relax.Function) and OP_ATTR in (f.attrs or {})}
    chosen = decisions(mod, HOST)["StructuredConv_0"].choice
    assert constructs == {"StructuredConv_0": chosen, "StructuredConv_1": "fold"}


def test_forcing_an_unknown_layer_or_an_option_no_layer_has_is_refused(tmp_path):
    mod, _ = imported(_two_layers(), torch.randn(1, 16, 8, 8), tmp_path)
    with pytest.raises(SedgeError, match="no such compressed layer: ACDC_0; the model's are StructuredConv_0, "
                                         "StructuredConv_1 \\(and all\\)"):
        decisions(mod, HOST, {"ACDC_0": "fold"})
    with pytest.raises(SedgeError, match="all=factored: no compressed layer .* offer fold, generic, sumpool\\+conv"):
        decisions(mod, HOST, {"all": "factored"})


def test_records_count_the_chosen_lowering(tmp_path):
    mod, _ = imported(_two_layers(), torch.randn(1, 16, 8, 8), tmp_path)
    pooled, folded = layer_records(mod, lowering={"StructuredConv_0": "sumpool+conv", "StructuredConv_1": "fold"})
    assert pooled.macs == 8 * 8 * 16 * 16 * 4 and pooled.adds > 0
    assert folded.macs == 8 * 8 * 16 * 16 * 9 and folded.adds == 0
    assert [o["name"] for o in folded.attrs["lowering_options"]] == ["fold", "sumpool+conv", "generic"]
    assert folded.attrs["lowering_reason"] == "fold: forced by --lowering"


@pytest.mark.parametrize("geometry,choice", [
    # resnet18's 3x3 64 -> 64 at 56x56, stride 1: the folded dense conv would be Winograd
    # F(4x4, 3x3), but the 2x2 small conv is F(4x4, 2x2) with the pool in its input transform
    # (measured 0.72-0.76x of the fold)
    ((1, 64, 56, 56, 64, 56, 56, 1, 64, 2, 3, (1, 1, 1, 1), (1, 1), (1, 1)), "sumpool+conv generic"),
    # the same at 7x7x512: no Winograd tile divides 7, the 2x2 small conv has 4/9 of the MACs
    # (its pool as the kernel or as the generic body measured alike: within 1%)
    ((1, 512, 7, 7, 512, 7, 7, 1, 512, 2, 3, (1, 1, 1, 1), (1, 1), (1, 1)), "sumpool+conv generic"),
    # stride 2: no Winograd for the dense conv either
    ((1, 64, 56, 56, 128, 28, 28, 1, 64, 2, 3, (1, 1, 1, 1), (1, 1), (2, 2)), "sumpool+conv generic"),
    # mobilenetv2-struct-b's 1x1 96 -> 24, c = 48: the window halves the MACs of a short reduction
    ((1, 96, 56, 56, 24, 56, 56, 1, 48, 1, 1, (0, 0, 0, 0), (1, 1), (1, 1)), "fold"),
    # its 14x14 576 -> 96, c = 288: the vectorised pool (the input read, half of it written)
    # costs less than the folded conv's second half (measured 100 us against fold's 131)
    ((1, 576, 14, 14, 96, 14, 14, 1, 288, 1, 1, (0, 0, 0, 0), (1, 1), (1, 1)), "sumpool+conv"),
    # its classifier, 1280 -> 1000, c = 560 at 1x1: the dense weights are 5 MB a pass
    ((1, 1280, 1, 1, 1000, 1, 1, 1, 560, 1, 1, (0, 0, 0, 0), (1, 1), (1, 1)), "sumpool+conv"),
])
def test_the_cost_model_picks_what_was_measured_faster(geometry, choice):
    """Layers from benchmarks.structured_layers where one option was clearly faster on this
    host (docs/structured-kernels.md); the choice must follow the measurement."""
    options = structured_options(StructuredLayer(*geometry), True, 1 << 20, 16)
    assert min(options, key=lambda o: o.est_us).name in choice.split()


def test_a_gpu_has_no_sum_pool_option(tmp_path):
    mod, _ = imported(_two_layers(), torch.randn(1, 16, 8, 8), tmp_path)
    cuda = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})
    options = [o.name for o in decisions(mod, cuda)["StructuredConv_0"].options]
    assert options == ["fold", "generic"]


@pytest.fixture(scope="module")
def struct_model(tmp_path_factory):
    """A small structured model as a user's ONNX file."""
    from sedge.frontend.export import export_onnx

    path = tmp_path_factory.mktemp("lowering") / "struct.onnx"
    export_onnx(_two_layers().eval(), torch.randn(1, 16, 8, 8), str(path))
    return str(path)


def test_compile_explain_prints_each_layers_choice_and_costs(struct_model, tmp_path):
    out = tmp_path / "m.tar"
    done = run_cli("compile", struct_model, "--explain", "--lowering", "StructuredConv_1=sumpool+conv",
                   "--dump-code", "tir", "-o", out)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    assert lines[header].split() == ["layer", "option", "MACs", "adds", "weight", "bytes", "est", "us"]
    assert lines[header + 1].startswith("StructuredConv_0 ")
    assert sum(line.lstrip().startswith("*") or " *" in line for line in lines) == 2, "one choice per layer"
    assert "-> sumpool+conv: forced by --lowering" in done.stdout
    with tarfile.open(out) as tar:
        layers = json.load(tar.extractfile("metadata.json"))["layers"]
    assert [layer["attrs"]["lowering"] for layer in layers if layer["op"] == "structured_conv"][1] == "sumpool+conv"
    # the forced layer's add-only kernel is in the package's TIR
    assert "sedge_sum_pool" in (tmp_path / "m.tar.tir").read_text()


def test_a_bad_lowering_is_one_line_and_no_file(struct_model, tmp_path):
    out = tmp_path / "m.tar"
    done = run_cli("compile", struct_model, "--lowering", "StructuredConv_0=factored", "-o", out)
    assert done.returncode != 0 and not out.exists()
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "StructuredConv_0 (StructuredConv) can be lowered as fold, sumpool+conv, generic" in done.stderr
