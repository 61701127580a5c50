"""sedge's replacements of TVM's converters of standard ONNX ops (frontend/importers/standard),
on the forms ONNX's node tests leave out, against ONNX Runtime (or the spec's values)."""
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import sedge
from sedge.errors import ModelImportError

sys.path.insert(0, str(Path(__file__).parents[1] / "coverage"))
from coverage_helpers import check_onnx  # noqa: E402


def _save(tmp_path, nodes, inputs, outputs, weights=(), opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(w, n) for n, w in weights])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def _value(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def _run(path, inputs):
    package = sedge.compile(sedge.load(str(path)), sedge.CompileOptions(output=str(path.with_suffix(".tar"))))
    return sedge.run(package, sedge.RunOptions(inputs=inputs)).outputs


def _conv_transpose(tmp_path, strides, output_shape, bias, auto_pad="NOTSET"):
    rng = np.random.default_rng(0)
    weights = [("w", rng.standard_normal((3, 2, 3, 3)).astype(np.float32))]
    if bias:
        weights.append(("b", rng.standard_normal(2).astype(np.float32)))
    node = helper.make_node("ConvTranspose", ["x"] + [n for n, _ in weights], ["y"], strides=strides,
                            output_shape=output_shape, auto_pad=auto_pad)
    return _save(tmp_path, [node], [_value("x", [1, 3, 3, 3])], [_value("y", [1, 2, *output_shape])], weights)


@pytest.mark.parametrize("output_shape, auto_pad", [
    ([5, 8], "NOTSET"),      # of the full 7x7: 2 rows cut (one each end), 1 column added (output_padding)
    ([6, 6], "NOTSET"),      # an odd cut: the first row and column
    ([6, 6], "SAME_UPPER"),  # the last ones
    ([6, 6], "SAME_LOWER"),
    ([3, 4], "NOTSET"),      # cuts wider than the stride
])
def test_conv_transpose_output_shape_matches_onnx_runtime(tmp_path, output_shape, auto_pad):
    check_onnx(_conv_transpose(tmp_path, [2, 2], output_shape, True, auto_pad), tmp_path)


def test_conv_transpose_output_shape_past_the_stride_is_refused(tmp_path):
    """2 past the full 5x5 output at stride 1: ONNX Runtime and ONNX's reference refuse it."""
    with pytest.raises(ModelImportError, match=r"ConvTranspose output_shape \[7, 7\] lies 2 past"):
        sedge.load(str(_conv_transpose(tmp_path, [1, 1], [7, 7], True)))


def test_conv_transpose_with_pads_and_output_shape_is_refused(tmp_path):
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], output_shape=[6, 6],
                            pads=[1, 1, 0, 0])
    path = _save(tmp_path, [node], [_value("x", [1, 3, 3, 3])], [_value("y", [1, 2, 6, 6])],
                 [("w", np.ones((3, 2, 3, 3), np.float32))])
    with pytest.raises(ModelImportError, match="ConvTranspose with both pads and output_shape"):
        sedge.load(str(path))


@pytest.mark.parametrize("a_shape, b_shape, c_shape", [([5], [5, 4], [4]), ([2, 3, 5], [5], [2, 3]),
                                                      ([5], [3, 5, 4], [3, 4])])
def test_one_dimensional_matmul_matches_onnx_runtime(tmp_path, a_shape, b_shape, c_shape):
    b = np.random.default_rng(0).standard_normal(b_shape).astype(np.float32)
    path = _save(tmp_path, [helper.make_node("MatMul", ["a", "b"], ["c"])], [_value("a", a_shape)],
                 [_value("c", c_shape)], [("b", b)])
    check_onnx(path, tmp_path)


@pytest.mark.parametrize("dtype, elem", [(np.int32, TensorProto.INT32), (np.int64, TensorProto.INT64)])
def test_integer_pow_with_negative_and_zero_exponents(tmp_path, dtype, elem):
    x = np.array([2, -3, 1, -1, -1, 5, 0, 7], dtype)
    e = np.array([3, 3, -2, -3, -2, 0, 2, -1], dtype)
    path = _save(tmp_path, [helper.make_node("Pow", ["x", "e"], ["z"])], [_value("x", [8], elem)],
                 [_value("z", [8], elem)], [("e", e)])
    got, = _run(path, {"x": x})
    assert got.dtype == dtype
    assert got.tolist() == [8, -27, 1, -1, 1, 1, 0, 0]  # negative exponents: the real power's integer part


def test_integer_pow_with_a_run_time_exponent_is_refused(tmp_path):
    path = _save(tmp_path, [helper.make_node("Pow", ["x", "e"], ["z"])],
                 [_value("x", [4], TensorProto.INT32), _value("e", [4], TensorProto.INT32)],
                 [_value("z", [4], TensorProto.INT32)])
    with pytest.raises(ModelImportError, match="Pow of int32 tensors with an exponent known only at run time"):
        sedge.load(str(path))


def test_layer_norm_with_its_mean_output_and_a_skipped_inv_std_dev(tmp_path):
    rng = np.random.default_rng(0)
    node = helper.make_node("LayerNormalization", ["x", "s", "b"], ["y", "mean"], axis=-2, epsilon=1e-3)
    path = _save(tmp_path, [node], [_value("x", [2, 3, 4, 5])],
                 [_value("y", [2, 3, 4, 5]), _value("mean", [2, 3, 1, 1])],
                 [("s", rng.standard_normal((4, 5)).astype(np.float32)),
                  ("b", rng.standard_normal((4, 5)).astype(np.float32))])
    check_onnx(path, tmp_path)


def test_inference_dropout_mask_is_all_true_and_bool(tmp_path):
    node = helper.make_node("Dropout", ["x", "r", "t"], ["y", "mask"])
    path = _save(tmp_path, [node], [_value("x", [3, 4])],
                 [_value("y", [3, 4]), _value("mask", [3, 4], TensorProto.BOOL)],
                 [("r", np.array(0.5, np.float32)), ("t", np.array(False))])
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    y, mask = _run(path, {"x": x})
    assert np.array_equal(y, x) and mask.dtype == np.bool_ and mask.all()


@pytest.mark.parametrize("mode, sizes, extra", [
    ("linear", [1, 2, 5, 7], {}),
    ("cubic", [1, 2, 5, 13], {"exclude_outside": 1}),  # W upscaled: antialias leaves it alone
    ("linear", [1, 2, 4, 10], {"coordinate_transformation_mode": "align_corners"}),
])
def test_antialiased_resize_matches_onnx_runtime(tmp_path, mode, sizes, extra):
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode=mode, antialias=1, **extra)
    path = _save(tmp_path, [node], [_value("x", [1, 2, 12, 10])], [_value("y", sizes)],
                 [("sizes", np.array(sizes, np.int64))])
    check_onnx(path, tmp_path)


def test_antialiased_resize_of_listed_axes_matches_onnx_runtime(tmp_path):
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear", antialias=1, axes=[3, 2])
    path = _save(tmp_path, [node], [_value("x", [1, 2, 12, 10])], [_value("y", [1, 2, 6, 3])],
                 [("sizes", np.array([3, 6], np.int64))])
    check_onnx(path, tmp_path)


@pytest.mark.parametrize("x_type, e_type, e", [
    (TensorProto.INT32, TensorProto.FLOAT, np.array([0.5, 1.5, 2.0, -1.0], np.float32)),  # truncated
    (TensorProto.FLOAT, TensorProto.INT64, np.array([-1, 0, 3, 2], np.int64)),
])
def test_pow_of_mixed_types_matches_onnx_runtime(tmp_path, x_type, e_type, e):
    path = _save(tmp_path, [helper.make_node("Pow", ["x", "e"], ["z"])], [_value("x", [4], x_type)],
                 [_value("z", [4], x_type)], [("e", e)])
    x = np.array([2, 10, -3, 4], helper.tensor_dtype_to_np_dtype(x_type))
    check_onnx(path, tmp_path, inputs={"x": x})


def test_constants_given_by_typed_attributes(tmp_path):
    nodes = [helper.make_node("Constant", [], ["shape"], value_ints=[3, 4]),
             helper.make_node("Constant", [], ["half"], value_float=0.5),
             helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Mul", ["r", "half"], ["y"])]
    path = _save(tmp_path, nodes, [_value("x", [2, 6])], [_value("y", [3, 4])])
    check_onnx(path, tmp_path)


def test_a_string_constant_is_refused(tmp_path):
    nodes = [helper.make_node("Constant", [], ["s"], value_strings=["a"]), helper.make_node("Identity", ["x"], ["y"])]
    path = _save(tmp_path, nodes, [_value("x", [2])], [_value("y", [2])])
    with pytest.raises(ModelImportError, match="Constant given by value_strings"):
        sedge.load(str(path))


def test_inference_dropout_with_a_run_time_ratio_is_the_identity(tmp_path):
    nodes = [helper.make_node("ReduceMax", ["x"], ["ratio"], keepdims=0),
             helper.make_node("Dropout", ["x", "ratio"], ["y"])]
    path = _save(tmp_path, nodes, [_value("x", [3, 4])], [_value("y", [3, 4])])
    x = np.random.default_rng(0).uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    y, = _run(path, {"x": x})
    assert np.array_equal(y, x)
