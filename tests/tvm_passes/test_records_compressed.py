"""Layer records of the compressed constructs, against the zoo's own per-layer costs."""
import math

import pytest

from sedge.frontend.loaders import load_model
from sedge.frontend.zoo import build
from sedge.frontend.zoo.cost import layer_costs
from sedge.tvm_passes.layer_records import layer_records


def _records(name, op, lowering=None):
    return [r for r in layer_records(load_model(f"zoo:{name}").mod, lowering=lowering) if r.op == op]


def _costs(name, kind):
    model = build(name)
    return [c for c in layer_costs(model, model.zoo_spec.input_shape) if c.kind == kind]


@pytest.mark.parametrize("name,op,kind", [("resnet8-struct-a", "structured_conv", "StructuredConv2d"),
                                          ("resnet8-csg-4x4-8", "csg_conv", "CSGConv2d")])
def test_macs_and_adds_match_the_zoo_counts(name, op, kind):
    """The compressed form's MACs as the zoo counts them (structured: lowered sumpool+conv, the
    small conv's MACs; its adds are the kernel's, below, where the zoo counts a direct sum).
    A band-limited conv's record counts the lowering that runs, transforms included (below),
    where the zoo counts the spectral channel mixing alone."""
    structured = op == "structured_conv"
    records, costs = _records(name, op, {"all": "sumpool+conv"} if structured else None), _costs(name, kind)
    assert len(records) == len(costs) == 6
    assert [r.macs for r in records] == [c.macs for c in costs]
    if not structured:
        assert [r.adds for r in records] == [c.adds for c in costs]


def test_csg_records_codes_as_weights_and_the_generator_as_shared():
    records = _records("resnet8-csg-4x4-8", "csg_conv")
    generator_bytes = 4 * 4 * 9 * 8 * 4
    assert all(r.shared_weights == {"csg_generator": generator_bytes} for r in records)
    first = records[0]  # 16 -> 16: ceil(16/4)^2 = 16 codes of length 8
    assert first.weight_bytes == 16 * 8 * 4 and first.attrs["dense_weight_bytes"] == 16 * 16 * 9 * 4


def test_structured_records_follow_the_lowering():
    pooled = _records("resnet8-struct-a", "structured_conv", {"all": "sumpool+conv"})[0]
    # 16 channels, 2x2 windows over a padded 34x34 map, as the kernel adds: the vertical pass
    # 1 add per element of the 33 x 32 row sums, the horizontal 1 per pooled value (33 x 33)
    assert pooled.adds == 16 * 33 * 32 + 16 * 33 * 33
    assert pooled.macs == math.prod(pooled.output_shape) * 16 * 4
    assert pooled.weight_bytes == 16 * 16 * 4 * 4
    assert pooled.attrs["lowering"] == "sumpool+conv" and pooled.attrs["lowering_forced"]
    folded = _records("resnet8-struct-a", "structured_conv", {"all": "fold"})[0]
    # the dense 3x3 conv alpha folds into: no adds, the dense weights read per inference
    assert folded.adds == 0 and folded.macs == math.prod(folded.output_shape) * 16 * 9
    assert folded.weight_bytes == folded.attrs["dense_weight_bytes"] == 16 * 16 * 9 * 4


def test_fft_records_the_kept_spectra():
    first = _records("resnet8-fft-50", "fft_conv", {"all": "fft"})[0]
    hf, wf = first.attrs["fft_shape"]
    index = first.attrs["index"]
    assert index == int((wf // 2 + 1) * math.sqrt(0.5))
    kept = (2 * index - 1) * index
    assert first.attrs["kept_coefficients"] == kept and first.weight_bytes == 2 * 16 * 16 * kept * 4


def test_acdc_records_the_fast_dct_cost():
    """A stack lowered `factored` counts the batched DCT kernel's multiplies (each with an add)
    and the adds beyond them (sedge/fast_dct.py; test_dct_batched.py checks them against the
    kernel's TIR), and names the kernel for the hardware models."""
    from sedge.fast_dct import stack_ops

    record = _records("wrn-10-1-acdc", "acdc", {"all": "factored"})[0]
    N, factors = record.attrs["n"], record.attrs["factors"]
    vectors = math.prod(record.input_shapes[0]) // N
    muls, adds = stack_ops(N, factors, bool(record.attrs["bias"]))
    assert (record.macs, record.adds) == (vectors * muls, vectors * (adds - muls))
    assert record.attrs["kernel"] == "dct_batched"
    folded = _records("wrn-10-1-acdc", "acdc", {"all": "fold"})[0]
    assert "kernel" not in folded.attrs and folded.adds == 0


def test_fft_records_follow_the_lowering_that_runs():
    projected = _records("resnet8-fft-50", "fft_conv")[0]  # the cost model's choice on this host
    assert projected.attrs["lowering"] == "project"
    # the dense 3x3 conv on the band-limited input: its weights are the 16 x 16 x 3 x 3 filters
    assert projected.weight_bytes == 16 * 16 * 9 * 4
    assert [o["name"] for o in projected.attrs["lowering_options"]] == ["project", "fft", "spatial", "generic"]
