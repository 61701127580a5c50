"""Layer records of the compressed constructs, against the zoo's own per-layer costs."""
import math

import pytest

from sedge.frontend.loaders import load_model
from sedge.frontend.zoo import build
from sedge.frontend.zoo.cost import layer_costs
from sedge.tvm_passes.layer_records import layer_records


def _records(name, op):
    return [r for r in layer_records(load_model(f"zoo:{name}").mod) if r.op == op]


def _costs(name, kind):
    model = build(name)
    return [c for c in layer_costs(model, model.zoo_spec.input_shape) if c.kind == kind]


@pytest.mark.parametrize("name,op,kind", [("resnet8-struct-a", "structured_conv", "StructuredConv2d"),
                                          ("resnet8-csg-4x4-8", "csg_conv", "CSGConv2d"),
                                          ("resnet8-fft-50", "fft_conv", "BandLimitedConv2d")])
def test_macs_and_adds_match_the_zoo_counts(name, op, kind):
    records, costs = _records(name, op), _costs(name, kind)
    assert len(records) == len(costs) == 6
    assert [(r.macs, r.adds) for r in records] == [(c.macs, c.adds) for c in costs]


def test_csg_records_codes_as_weights_and_the_generator_as_shared():
    records = _records("resnet8-csg-4x4-8", "csg_conv")
    generator_bytes = 4 * 4 * 9 * 8 * 4
    assert all(r.shared_weights == {"csg_generator": generator_bytes} for r in records)
    first = records[0]  # 16 -> 16: ceil(16/4)^2 = 16 codes of length 8
    assert first.weight_bytes == 16 * 8 * 4 and first.attrs["dense_weight_bytes"] == 16 * 16 * 9 * 4


def test_structured_sum_pool_is_adds_only():
    first = _records("resnet8-struct-a", "structured_conv")[0]
    # 16 channels, 2x2 spatial windows over a padded 34x34 map: 33x33 pooled values, 3 adds each
    assert first.adds == 16 * 33 * 33 * 3
    assert first.macs == math.prod(first.output_shape) * 16 * 4
    assert first.weight_bytes == 16 * 16 * 4 * 4


def test_fft_records_the_kept_spectra():
    first = _records("resnet8-fft-50", "fft_conv")[0]
    hf, wf = first.attrs["fft_shape"]
    index = first.attrs["index"]
    assert index == int((wf // 2 + 1) * math.sqrt(0.5))
    kept = (2 * index - 1) * index
    assert first.attrs["kept_coefficients"] == kept and first.weight_bytes == 2 * 16 * 16 * kept * 4


def test_acdc_records_the_fast_dct_cost():
    record = _records("wrn-10-1-acdc", "acdc")[0]
    N, factors = record.attrs["n"], record.attrs["factors"]
    vectors = math.prod(record.input_shapes[0]) // N
    assert record.macs == vectors * factors * (4 * N + 5 * N * round(math.log2(N)))
