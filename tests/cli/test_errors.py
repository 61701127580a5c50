"""Bad input: one line naming the problem, tvmc's exit codes, no traceback, no output file."""
import onnx
import pytest
from conftest import run_cli
from onnx import TensorProto, helper


def _assert_user_error(result, code, *fragments):
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = [l for l in result.stderr.splitlines() if l.strip() and "Warning" not in l]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture()
def unsupported_onnx(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("MysteryOp", ["x"], ["y"], domain="acme")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("acme", 1)])
    path = tmp_path / "mystery.onnx"
    onnx.save(model, path)
    return path


def test_missing_model_file(tmp_path):
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", tmp_path / "nope.onnx", "-o", out), 4, "does not exist")
    assert not out.exists()


def test_malformed_model_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00this is not protobuf\xff" * 10)
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", bad, "-o", out), 5, "is not a valid ONNX model")
    assert not out.exists()


def test_malformed_pt2_file(tmp_path):
    bad = tmp_path / "bad.pt2"
    bad.write_text("not a zip")
    _assert_user_error(run_cli("compile", bad, "-o", tmp_path / "m.tar"), 5, "is not a torch.export program")
    assert not (tmp_path / "m.tar").exists()


def test_unsupported_op_is_named(unsupported_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", unsupported_onnx, "-o", out), 5, "unsupported operator", "MysteryOp")
    assert not out.exists()


def test_a_shape_that_depends_on_input_values_is_refused(tmp_path):
    """y = x[:, :n] with n read from a second input: no static shape exists to compile for."""
    graph = helper.make_graph(
        [helper.make_node("Slice", ["x", "start", "n", "axis"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("n", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "k"])],
        [helper.make_tensor("start", TensorProto.INT64, [1], [0]),
         helper.make_tensor("axis", TensorProto.INT64, [1], [1])])
    model, out = tmp_path / "slice.onnx", tmp_path / "m.tar"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), model)
    _assert_user_error(run_cli("compile", model, "-o", out), 5, "'relax.dynamic_strided_slice'",
                       "known only at run time", "follow from the input shapes")
    assert not out.exists()


def test_a_gather_index_outside_its_axis_is_refused(tmp_path):
    """Index 9 of 4 channels: imported as TVM's trusting gather, it read past the tensor at
    run time (only `run --verify` noticed, through ONNX Runtime's own refusal)."""
    graph = helper.make_graph(
        [helper.make_node("Gather", ["x", "channels"], ["y"], axis=1)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor("channels", TensorProto.INT64, [3], [0, 9, 2])])
    model, out = tmp_path / "gather.onnx", tmp_path / "m.tar"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), model)
    _assert_user_error(run_cli("compile", model, "-o", out), 5, "Gather node writing 'y' reads index 9 along axis 1",
                       "4 elements", "-4..3")
    assert not out.exists()


@pytest.mark.parametrize("shapes", ["input:[1,3,a,32]", "input[1,3]", "input:[1,0,32,32]", "other:[1,3,32,32]"])
def test_bad_input_shapes(resnet_onnx, tmp_path, shapes):
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", resnet_onnx, "--input-shapes", shapes, "-o", out), 4, "--input-shapes")
    assert not out.exists()


def test_unknown_target(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", resnet_onnx, "--target", "tpu -fast=1", "-o", out), 4,
                       "unknown target kind 'tpu'", "llvm, cuda")
    assert not out.exists()


def test_unknown_suffix_names_the_formats(tmp_path):
    model = tmp_path / "model.h5"
    model.write_text("x")
    _assert_user_error(run_cli("compile", model, "-o", tmp_path / "m.tar"), 4, "--model-format", ".onnx")


def test_not_a_sedge_package(tmp_path, resnet_onnx):
    _assert_user_error(run_cli("run", resnet_onnx), 4, "is not a sedge package")
    _assert_user_error(run_cli("run", tmp_path / "none.tar"), 4, "does not exist")


def test_tvmc_error_exit_code(tmp_path):
    _assert_user_error(run_cli("compile", tmp_path / "nope.onnx", program="tvmc"), 4, "tvmc: error:")


def test_bad_run_inputs(compiled_resnet, tmp_path):
    import numpy as np

    np.savez(tmp_path / "wrong.npz", input=np.zeros((1, 3, 8, 8), np.float32))
    _assert_user_error(run_cli("run", compiled_resnet.path, "--inputs", tmp_path / "wrong.npz"), 4,
                       "input 'input' is float32[1, 3, 8, 8]", "expects float32[1, 3, 32, 32]")
    outputs = tmp_path / "out.txt"
    _assert_user_error(run_cli("run", compiled_resnet.path, "--outputs", outputs), 4, "must end in .npz")
    assert not outputs.exists()


def test_verbose_shows_the_traceback(tmp_path):
    result = run_cli("--verbose", "compile", tmp_path / "nope.onnx")
    assert result.returncode == 4 and "Traceback" in result.stderr


def test_bad_pass_config(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _assert_user_error(run_cli("compile", resnet_onnx, "--pass-config", "tirx.no_such_option=1", "-o", out), 4,
                       "bad --pass-config", "tirx.no_such_option")
    _assert_user_error(run_cli("compile", resnet_onnx, "--pass-config", "novalue", "-o", out), 4, "NAME=VALUE")
    assert not out.exists()
