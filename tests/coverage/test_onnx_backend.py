"""Conformance: ONNX's shipped backend test cases through sedge, against their shipped outputs.

- every `pytorch-converted` case (opset 6 files with initializers listed as inputs: the 2-D
  CNN ones, Conv2d*, BatchNorm2d*, pools, activations, pads, Linear, PixelShuffle, and the
  1-D / 3-D ones too) and every `pytorch-operator` case, compiled and run through the API,
  a few of them through `sedge compile` / `sedge run --inputs --outputs` as users run them;
- ONNX's node test cases of the operators sedge's CNN and transformer models use (CLAIMED),
  with their shape/axis/pad/scale operands stored in the file as a model stores them.

A case either matches (rtol 1e-3 / atol 1e-5 as ONNX's runner, or 1e-4 relative for the
model directories) or is a one-line SedgeError listed in REFUSED; an internal error always
fails. KNOWN_WRONG lists what sedge still gets wrong (strict xfails: fixed ones must leave).
"""
import numpy as np
import onnx
import pytest
from backend_cases import as_model, case_dirs, node_cases, read_data_set
from conftest import run_cli
from coverage_helpers import check_onnx

from sedge.errors import SedgeError

PYTORCH_CONVERTED = case_dirs("pytorch-converted")
PYTORCH_OPERATOR = case_dirs("pytorch-operator")


@pytest.mark.parametrize("case", PYTORCH_CONVERTED + PYTORCH_OPERATOR, ids=lambda p: p.name)
def test_pytorch_cases(case, tmp_path):
    inputs, expected = read_data_set(case)
    from sedge.frontend.loaders import load_model

    names = [s.name for s in load_model(str(case / "model.onnx")).inputs]
    check_onnx(case / "model.onnx", tmp_path, inputs=dict(zip(names, inputs)), expected=expected)


@pytest.mark.parametrize("name", ["test_Conv2d_depthwise_strided", "test_BatchNorm2d_eval", "test_PixelShuffle"])
def test_pytorch_cases_through_the_cli(name, tmp_path):
    case = next(p for p in PYTORCH_CONVERTED if p.name == name)
    inputs, expected = read_data_set(case)
    input_name = onnx.load(str(case / "model.onnx")).graph.input[0].name
    np.savez(tmp_path / "in.npz", **{input_name: inputs[0]})
    compiled = run_cli("compile", case / "model.onnx", "-o", tmp_path / "m.tar")
    assert compiled.returncode == 0, compiled.stderr
    ran = run_cli("run", tmp_path / "m.tar", "--inputs", tmp_path / "in.npz", "--outputs", tmp_path / "out.npz")
    assert ran.returncode == 0, ran.stderr
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_allclose(out["output_0"], expected[0], rtol=1e-4, atol=1e-6)


CLAIMED = {
    "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "LRN",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Mish", "Tanh", "Gelu",
    "Erf", "Softplus", "Softsign", "Softmax", "LogSoftmax", "Clip", "Exp", "Sqrt", "Pow", "Abs", "Neg",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean",
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sum", "Max", "Min",
    "Concat", "Split", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "Tile",
    "Expand", "Pad", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "Identity", "Dropout", "Constant",
}

# refused in one line (a SedgeError), and why
REFUSED = {
    "test_batchnorm_epsilon_training_mode": "BatchNormalization in training mode (batch statistics)",
    "test_batchnorm_example_training_mode": "BatchNormalization in training mode (batch statistics)",
    "test_expand_dim_changed": "Expand to a shape stored as a weight",
    "test_expand_dim_unchanged": "Expand to a shape stored as a weight",
    "test_identity_opt": "an optional-typed input (sedge compiles tensors)",
    "test_identity_sequence": "a sequence-typed input (sedge compiles tensors)",
    "test_maxpool_with_argmax_2d_precomputed_pads": "MaxPool's Indices output",
    "test_maxpool_with_argmax_2d_precomputed_strides": "MaxPool's Indices output",
    "test_reshape_allowzero_reordered": "a 0-sized input dimension",
    "test_resize_downsample_scales_cubic": "Resize scales stored as a weight",
    "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside": "Resize scales stored as a weight",
    "test_resize_downsample_scales_cubic_align_corners": "Resize scales stored as a weight",
    "test_resize_downsample_scales_cubic_antialias": "Resize scales stored as a weight",
    "test_resize_downsample_scales_linear": "Resize scales stored as a weight",
    "test_resize_downsample_scales_linear_align_corners": "Resize scales stored as a weight",
    "test_resize_downsample_scales_linear_antialias": "Resize scales stored as a weight",
    "test_resize_downsample_scales_linear_half_pixel_symmetric": "Resize scales stored as a weight",
    "test_resize_downsample_scales_nearest": "Resize scales stored as a weight",
    "test_resize_downsample_sizes_nearest_not_larger": "Resize sizes of a subset of axes",
    "test_resize_downsample_sizes_nearest_not_smaller": "Resize sizes of a subset of axes",
    "test_resize_tf_crop_and_resize_axes_2_3": "Resize tf_crop_and_resize",
    "test_resize_tf_crop_and_resize_axes_3_2": "Resize tf_crop_and_resize",
    "test_resize_upsample_scales_cubic": "Resize scales stored as a weight",
    "test_resize_upsample_scales_cubic_A_n0p5_exclude_outside": "Resize scales stored as a weight",
    "test_resize_upsample_scales_cubic_align_corners": "Resize scales stored as a weight",
    "test_resize_upsample_scales_cubic_asymmetric": "Resize scales stored as a weight",
    "test_resize_upsample_scales_linear": "Resize scales stored as a weight",
    "test_resize_upsample_scales_linear_align_corners": "Resize scales stored as a weight",
    "test_resize_upsample_scales_linear_half_pixel_symmetric": "Resize scales stored as a weight",
    "test_resize_upsample_scales_nearest": "Resize scales stored as a weight",
    "test_resize_upsample_scales_nearest_axes_2_3": "Resize scales stored as a weight",
    "test_resize_upsample_scales_nearest_axes_3_2": "Resize scales stored as a weight",
    "test_resize_upsample_sizes_nearest_axes_2_3": "Resize sizes of a subset of axes",
    "test_resize_upsample_sizes_nearest_axes_3_2": "Resize sizes of a subset of axes",
    "test_resize_upsample_sizes_nearest_not_larger": "Resize sizes of a subset of axes",
    "test_resize_upsample_sizes_nearest_not_smaller": "Resize sizes of a subset of axes",
    "test_slice_start_out_of_bounds": "a Slice to an empty tensor",
    "test_split_zero_size_splits_opset13": "a 0-sized input dimension",
    "test_split_zero_size_splits_opset18": "a 0-sized input dimension",
    "test_training_dropout": "Dropout in training mode (random masks)",
    "test_training_dropout_default": "Dropout in training mode (random masks)",
    "test_training_dropout_default_mask": "Dropout in training mode (random masks)",
    "test_training_dropout_mask": "Dropout in training mode (random masks)",
    "test_upsample_nearest": "Resize scales stored as a weight",
}
# what sedge still gets wrong: strict xfails, so a fixed case must leave the list
KNOWN_WRONG: dict[str, str] = {}

NODE_CASES = node_cases(CLAIMED)


@pytest.mark.parametrize("name", sorted(NODE_CASES))
def test_node_cases(name, tmp_path, request):
    import sedge

    case = NODE_CASES[name]
    why = KNOWN_WRONG.get(name)
    if why:
        request.applymarker(pytest.mark.xfail(reason=why, strict=True))
    model_proto, feeds, expected = as_model(case)
    path = tmp_path / "m.onnx"
    onnx.save(model_proto, str(path))
    try:
        model = sedge.load(str(path))
        package = sedge.compile(model, sedge.CompileOptions(output=str(tmp_path / "m.tar")))
        got = sedge.run(package, sedge.RunOptions(inputs={s.name: a for s, a in zip(model.inputs, feeds)})).outputs
    except SedgeError as err:
        assert name in REFUSED, f"refused but not listed in REFUSED: {err}"
        assert len(str(err).splitlines()) == 1
        return
    assert name not in REFUSED, "listed in REFUSED but compiles: remove it there"
    assert len(got) == len(expected)
    for g, w in zip(got, expected):
        assert g.shape == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=case.rtol or 1e-3, atol=max(case.atol or 0.0, 1e-5), equal_nan=True)
