"""tvmc parity (issue 25): TVM v0.19's tvmc test and tutorial command lines, run as a user runs
them (subprocesses), one test per behaviour. Models are tiny ONNX graphs made here."""
import json
import tarfile

import numpy as np
import pytest
from conftest import run_cli

# tvmc printed TVM's str(BenchmarkResult): this header, character for character
TVMC_TIME_HEADER = " mean (ms)   median (ms)    max (ms)     min (ms)     std (ms)  "


def _save(path, nodes, inputs, outputs, initializers=()):
    import onnx
    from onnx import helper

    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return path


@pytest.fixture(scope="module")
def matmul_onnx(tmp_path_factory):
    """y = relu(x @ W), x: float32[2, 4]."""
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).standard_normal((4, 8), dtype=np.float32)
    return _save(tmp_path_factory.mktemp("models") / "mm.onnx",
                 [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
                 [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
                 [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 8])],
                 [numpy_helper.from_array(weight, "w")])


@pytest.fixture(scope="module")
def two_input_onnx(tmp_path_factory):
    """out = a * 2 + b, with tvmc-test input names holding '.' and ':' and dynamic shapes."""
    from onnx import TensorProto, helper, numpy_helper

    return _save(tmp_path_factory.mktemp("models") / "two.onnx",
                 [helper.make_node("Mul", ["input.1", "two"], ["m"]),
                  helper.make_node("Add", ["m", "input:0"], ["out"])],
                 [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["n", "k"]),
                  helper.make_tensor_value_info("input:0", TensorProto.FLOAT, ["n", "k"])],
                 [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", "k"])],
                 [numpy_helper.from_array(np.array(2.0, np.float32), "two")])


@pytest.fixture(scope="module")
def two_input_pkg(two_input_onnx, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages") / "two.tar"
    compiled = run_cli("compile", two_input_onnx, "--input-shapes", "input.1:[3,4] input:0:[3,4]", "-o", out,
                       program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    return out


@pytest.fixture(scope="module")
def matmul_pkg(matmul_onnx, tmp_path_factory):
    out = tmp_path_factory.mktemp("packages") / "mm.tar"
    compiled = run_cli("compile", matmul_onnx, "--target", "llvm", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    return out


def _meta(package):
    with tarfile.open(package) as tar:
        return json.load(tar.extractfile("metadata.json"))


def _members(package):
    with tarfile.open(package) as tar:
        return sorted(tar.getnames())


def _one_line_error(result, code=4, *parts):
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for part in parts:
        assert part in err, err
    return err


# --- tvmc tune ------------------------------------------------------------------------------------


@pytest.mark.slow  # two trials still build and time every kernel: ~1-2 min on a busy 2-core machine
def test_tune_workflow_plain_llvm_target(matmul_onnx, tmp_path):
    """test_command_line.py's test_tvmc_cl_workflow: tune with a plain "llvm" (no -num-cores),
    --enable-autoscheduler, then compile with the records and run --end-to-end --outputs."""
    tuned = run_cli("tune", "--target", "llvm", "--output", "records.json", "--trials", "2",
                    "--enable-autoscheduler", matmul_onnx, program="tvmc", cwd=tmp_path)
    assert tuned.returncode == 0, tuned.stderr
    assert "note: --enable-autoscheduler" in tuned.stdout
    assert "tvmc compile" in tuned.stdout
    records = tmp_path / "records.json"
    assert (records / "database_workload.json").is_file() and (records / "database_tuning_record.json").is_file()
    package = tmp_path / "tuned.tar"
    compiled = run_cli("compile", "--target", "llvm", "--tuning-records", records, "--output", package, matmul_onnx,
                       program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    ran = run_cli("run", "--end-to-end", "--outputs", tmp_path / "predictions.npz", package, program="tvmc")
    assert ran.returncode == 0, ran.stderr
    assert np.load(tmp_path / "predictions.npz")["output_0"].shape == (2, 8)


@pytest.mark.soak  # tvmc's default 1000 trials: ~8 min here; `pytest -m soak tests/cli/test_tvmc_parity.py`
def test_tune_tutorial_command_as_written(matmul_onnx, tmp_path):
    """The tutorial's `tvmc tune --target "llvm" --output records.json model.onnx`, no extra flag."""
    tuned = run_cli("tune", "--target", "llvm", "--output", "records.json", matmul_onnx, program="tvmc",
                    cwd=tmp_path, timeout=1800)
    assert tuned.returncode == 0, tuned.stderr
    assert (tmp_path / "records.json" / "database_tuning_record.json").is_file()


@pytest.mark.slow  # two trials: ~1-2 min
def test_tune_config_file_in_tvmc_layout(matmul_onnx, tmp_path):
    """test_tvmc_cl_workflow_json_config: `tvmc tune --config FILE --output ...`."""
    config = tmp_path / "tune_config.json"
    config.write_text(json.dumps({"targets": [{"kind": "llvm"}], "trials": 2}))
    tuned = run_cli("tune", "--config", config, "--output", tmp_path / "records", matmul_onnx, program="tvmc")
    assert tuned.returncode == 0, tuned.stderr
    assert (tmp_path / "records" / "database_tuning_record.json").is_file()


def test_tune_config_file_errors_are_one_line(matmul_onnx, tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"targets": [{"mcpu": "x"}]}))
    _one_line_error(run_cli("tune", "--config", config, "-o", tmp_path / "r", matmul_onnx, program="tvmc"), 4,
                    '"targets" must be a list of objects with a "kind"')
    config.write_text(json.dumps({"no_such_flag": 1}))
    _one_line_error(run_cli("tune", "--config", config, "-o", tmp_path / "r", matmul_onnx, program="tvmc"), 4,
                    "unknown flag 'no_such_flag'")
    assert not (tmp_path / "r").exists()


def test_tune_without_output_is_a_one_line_error(matmul_onnx):
    _one_line_error(run_cli("tune", "--target", "llvm", matmul_onnx, program="tvmc"), 4, "-o/--output")


def test_psutil_is_a_declared_dependency():
    """MetaSchedule's search imports psutil; apache-tvm does not ask for it."""
    import re
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert "psutil" in {re.split(r"[<>=!~ ;\[]", dep)[0] for dep in pyproject["project"]["dependencies"]}


# --- targets --------------------------------------------------------------------------------------


def test_target_option_value_after_a_space(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--target", "llvm -num-cores 2", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert _meta(out)["target"]["num-cores"] == 2


def test_target_option_with_an_empty_value_is_refused(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, "--target", "llvm -mcpu=", "-o", out, program="tvmc"), 4,
                    "target option '-mcpu=' in 'llvm -mcpu=' has an empty value")
    assert not out.exists()


def test_composite_target_per_kind_flags_reach_device_and_host(matmul_onnx, tmp_path):
    """test_target_options.py: `--target "cuda, llvm -mtriple=..." --target-llvm-mcpu X
    --target-cuda-max_num_threads N`; the llvm option applies to the host."""
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--target", "cuda, llvm -mtriple=aarch64-linux-gnu",
                       "--target-llvm-mcpu", "cortex-a72", "--target-cuda-max_num_threads", "512", "-o", out,
                       program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    target = _meta(out)["target"]
    assert target["kind"] == "cuda" and target["max_num_threads"] == 512
    assert target["host"]["mtriple"] == "aarch64-linux-gnu" and target["host"]["mcpu"] == "cortex-a72"
    assert "mod.tar" in _members(out)  # aarch64 host code: objects, linked on the board


# --- tvmc run -------------------------------------------------------------------------------------


def test_run_short_options_i_and_o(two_input_pkg, tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.full((3, 4), 0.5, np.float32)
    np.savez(tmp_path / "x.npz", **{"input.1": a, "input:0": b})
    ran = run_cli("run", "-i", tmp_path / "x.npz", "-o", tmp_path / "y.npz", two_input_pkg, program="tvmc")
    assert ran.returncode == 0, ran.stderr
    np.testing.assert_allclose(np.load(tmp_path / "y.npz")["output_0"], a * 2 + b)


def test_run_partial_inputs_are_filled_by_fill_mode(two_input_pkg, tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.savez(tmp_path / "x.npz", **{"input.1": a})
    for mode, fill in (("ones", 1.0), ("zeros", 0.0)):
        ran = run_cli("run", "--inputs", tmp_path / "x.npz", "--fill-mode", mode, "--outputs", tmp_path / "y.npz",
                      two_input_pkg, program="tvmc")
        assert ran.returncode == 0, ran.stderr
        np.testing.assert_allclose(np.load(tmp_path / "y.npz")["output_0"], a * 2 + fill)


def test_run_inputs_naming_no_model_input_is_refused(two_input_pkg, tmp_path):
    np.savez(tmp_path / "x.npz", nope=np.zeros((3, 4), np.float32))
    _one_line_error(run_cli("run", "-i", tmp_path / "x.npz", "-o", tmp_path / "y.npz", two_input_pkg,
                            program="tvmc"), 4, "--inputs gives ['nope']", "input.1")
    assert not (tmp_path / "y.npz").exists()


def test_tutorial_run_command_with_output_abbreviation(matmul_pkg, tmp_path):
    """The tutorial's `tvmc run --inputs x.npz --output predictions.npz --print-time --repeat 100 pkg`."""
    np.savez(tmp_path / "imagenet_cat.npz", x=np.ones((2, 4), np.float32))
    ran = run_cli("run", "--inputs", tmp_path / "imagenet_cat.npz", "--output", tmp_path / "predictions.npz",
                  "--print-time", "--repeat", "100", matmul_pkg, program="tvmc")
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "predictions.npz").is_file()
    lines = ran.stdout.splitlines()
    assert lines[0] == "Execution time summary:" and lines[1] == TVMC_TIME_HEADER


def test_time_table_matches_tvms_benchmark_result_exactly(matmul_pkg):
    from tvm.runtime.module import BenchmarkResult

    ran = run_cli("run", "--print-time", "--repeat", "5", matmul_pkg, program="tvmc")
    assert ran.returncode == 0, ran.stderr
    table = "\n".join(ran.stdout.splitlines()[:3])
    means = [float(v) / 1e3 for v in table.splitlines()[2].split()]
    assert len(means) == 5 and means[3] <= means[1] <= means[2]  # min <= median <= max
    assert table.splitlines()[1] == str(BenchmarkResult([1e-3])).splitlines()[1] == TVMC_TIME_HEADER


def test_rpc_run_print_time_prints_tvmcs_table(matmul_pkg, tracker):
    from conftest import RPC_KEY

    ran = run_cli("run", "--rpc-tracker", tracker, "--rpc-key", RPC_KEY, "--print-time", "--repeat", "3", matmul_pkg,
                  program="tvmc", timeout=300)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    at = lines.index("Execution time summary:")
    assert lines[at + 1] == TVMC_TIME_HEADER
    assert len([float(v) for v in lines[at + 2].split()]) == 5


# --- --input-shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("shapes", ["input.1: [3, 10] input:0: [3, 10]", "input.1:[3,10],input:0:[3,10]",
                                    "input.1:[3,10], input:0:[3, 10]"])
def test_input_shapes_forms_tvmc_accepted(two_input_onnx, tmp_path, shapes):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", two_input_onnx, "--input-shapes", shapes, "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert {i["name"]: i["shape"] for i in _meta(out)["inputs"]} == {"input.1": [3, 10], "input:0": [3, 10]}


# --- --pass-config --------------------------------------------------------------------------------


def test_pass_config_add_lower_pass_list_runs_the_passes(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--pass-config", "tir.add_lower_pass=1,tir.transform.UnrollLoop",
                       "--pass-config",
                       "tir.add_lower_pass=1,tir.transform.HoistIfThenElse,2,tir.transform.LoopPartition",
                       "--print-pass-times", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    lines = compiled.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("sedge.add_lower_pass:"))
    # phases 0-1 run before TVM's own lowering, phase 2-3 after it, inside the one wrapper
    children = []
    for line in lines[at + 1:]:
        if not line.startswith("\t"):
            break
        if not line.startswith("\t\t"):
            children.append(line.strip().split(":")[0])
    assert children[:2] == ["tirx.UnrollLoop", "s_tir.HoistIfThenElse"], children
    # sedge's lowering in between: its simplification of the scheduled kernels, TVM's, then
    # its small "local" buffers kept on the stack
    assert children[2:5] == ["sedge.simplify_opaque_blocks", "_pipeline", "sedge.stack_local_buffers"], children
    assert children[-1] == "s_tir.LoopPartition" and len(children) == 6, children
    assert run_cli("run", out, "--verify", program="tvmc").returncode == 0


@pytest.mark.parametrize("value, message", [
    ("tir.transform.UnrollLoop,1", "phase 'tir.transform.UnrollLoop' must be 0..3"),
    ("1,tir.transform.UnrollLoop,3", "expected tir.add_lower_pass=PHASE,PASS"),
    ("a,tir.transform.UnrollLoop", "phase 'a' must be 0..3"),
    ("1,tir.transform.UnrollLoop,2,path.to.module.fake_func", "cannot import 'path.to.module'"),
    ("1,tir.transform.UnrollLoop,2,tvm.tir.fake_func", "no pass 'fake_func' in tvm.tirx"),
])
def test_pass_config_add_lower_pass_bad_lists(matmul_onnx, tmp_path, value, message):
    """test_pass_config.py's test_add_lower_pass_invalid_format cases."""
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, "--pass-config", f"tir.add_lower_pass={value}", "-o", out,
                            program="tvmc"), 4, message)
    assert not out.exists()


# --- compile flags --------------------------------------------------------------------------------


def test_desired_layout_nhwc_is_accepted_with_a_note(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--desired-layout", "NHWC", "--desired-layout-ops", "nn.conv2d",
                       "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert "note: --desired-layout NHWC: sedge picks kernel layouts itself" in compiled.stdout
    assert out.is_file()


@pytest.mark.parametrize("flag", ["-f", "--output-format"])
def test_output_format_so_packs_a_linked_library(matmul_onnx, tmp_path, flag):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, flag, "so", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert "mod.so" in _members(out)
    assert run_cli("run", out, "--verify", program="tvmc").returncode == 0


def test_output_format_tar_packs_objects(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "-f", "tar", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert "mod.tar" in _members(out) and "mod.so" not in _members(out)


def test_output_format_so_for_another_architecture_needs_a_cross_compiler(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, "--target", "llvm -mtriple=aarch64-linux-gnu", "-f", "so",
                            "-o", out, program="tvmc"), 4, "--output-format so needs a linker", "--cross-compiler")
    assert not out.exists()


def test_output_format_mlf_is_refused_in_one_line(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, "-f", "mlf", "-o", out, program="tvmc"), 4,
                    "--output-format 'mlf' is not supported", "Model Library Format")
    assert not out.exists()


def test_print_pass_times_has_tvmcs_heading(matmul_onnx, tmp_path):
    """test_tvmc_print_pass_times: the heading, a 'sequential:' row and 'us]' times."""
    compiled = run_cli("compile", matmul_onnx, "--print-pass-times", "-o", tmp_path / "m.tar", program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout.splitlines()[0] == "Compilation time breakdown by pass:"
    assert "sequential:" in compiled.stdout and "us]" in compiled.stdout


def test_config_file_in_tvmcs_layout(matmul_onnx, tmp_path):
    from sedge.tvm_passes.target import host_target

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"targets": [{"kind": "llvm", "mcpu": host_target()["mcpu"]}],
                                  "executor": {"kind": "graph"}, "runtime": {"kind": "cpp"},
                                  "pass-config": {"tir.disable_vectorize": "false"}}))
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", "--config", config, "-o", out, matmul_onnx, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert _meta(out)["target"]["mcpu"] == host_target()["mcpu"]
    assert "note: --executor graph" in compiled.stdout


def test_config_before_the_command(matmul_onnx, tmp_path):
    """tvmc read --config anywhere on the line: `tvmc --config FILE compile ...`."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"targets": [{"kind": "llvm", "num-cores": 1}]}))
    out = tmp_path / "m.tar"
    compiled = run_cli("--config", config, "compile", matmul_onnx, "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert _meta(out)["target"]["num-cores"] == 1


# --- Relay-era artefacts --------------------------------------------------------------------------


def test_dump_code_relay_writes_relax_with_a_note(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--dump-code", "relay,ll", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert "TVM 0.27 has no Relay" in compiled.stdout
    assert "def main" in (tmp_path / "m.tar.relax").read_text()
    assert (tmp_path / "m.tar.ll").is_file() and not (tmp_path / "m.tar.relay").exists()


def test_executor_graph_runtime_cpp_are_accepted(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--executor", "graph", "--runtime", "cpp", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert "Relax VM" in compiled.stdout and "C++ runtime" in compiled.stdout
    assert run_cli("run", out, "--verify", program="tvmc").returncode == 0


@pytest.mark.parametrize("flags, message", [
    (["--executor", "aot"], "TVM 0.27 has no aot executor"),
    (["--runtime", "crt"], "TVM 0.27 has no crt runtime"),
])
def test_aot_and_crt_are_refused_in_one_line(matmul_onnx, tmp_path, flags, message):
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, *flags, "-o", out, program="tvmc"), 4, message)
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".pth", ".pt"])
def test_torchscript_input_is_refused_with_what_to_bring(tmp_path, suffix):
    import torch

    model = tmp_path / f"model{suffix}"
    torch.jit.save(torch.jit.script(torch.nn.ReLU()), str(model))
    _one_line_error(run_cli("compile", model, "--model-format", "pytorch", "-o", tmp_path / "m.tar", program="tvmc"),
                    4, "save a torch.export program (.pt2) or an ONNX file")
    _one_line_error(run_cli("compile", model, "-o", tmp_path / "m.tar", program="tvmc"), 4, "TorchScript")


# --- --mixed-precision ----------------------------------------------------------------------------


def test_mixed_precision_float16_with_float32_accumulation(resnet_onnx, tmp_path):
    """fp16 convs/matmuls, fp32 sums by default; the outputs agree with the float32 build and
    ONNX Runtime within float16 tolerance."""
    fp16, fp32 = tmp_path / "fp16.tar", tmp_path / "fp32.tar"
    compiled = run_cli("compile", resnet_onnx, "--mixed-precision", "--dump-code", "relax", "-o", fp16,
                       program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert run_cli("compile", resnet_onnx, "-o", fp32, program="tvmc").returncode == 0
    record = _meta(fp16)["build"]["mixed_precision"]
    assert record == {"ops": ["relax.matmul", "relax.nn.conv2d"], "calculation_type": "float16",
                      "acc_type": "float32"}
    relax_text = (tmp_path / "fp16.tar.relax").read_text()
    assert '"float16"' in relax_text
    x = np.random.default_rng(3).random((1, 3, 32, 32), dtype=np.float32)
    np.savez(tmp_path / "x.npz", input=x)
    for package in (fp16, fp32):
        ran = run_cli("run", "-i", tmp_path / "x.npz", "-o", tmp_path / f"{package.stem}.npz", package,
                      "--verify", program="tvmc")
        assert ran.returncode == 0 and "PASS" in ran.stdout, ran.stdout + ran.stderr
    assert "(tolerance 0.01)" in run_cli("run", fp16, "--verify", program="tvmc").stdout
    half = np.load(tmp_path / "fp16.npz")["output_0"]
    full = np.load(tmp_path / "fp32.npz")["output_0"]
    assert half.dtype == np.float32  # the model's outputs keep their dtype
    rel = np.abs(half - full).max() / np.abs(full).max()
    assert 0 < rel < 1e-2, rel  # it did change (float16), within float16 tolerance


def test_mixed_precision_flags(matmul_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", matmul_onnx, "--mixed-precision", "--mixed-precision-ops", "nn.dense",
                       "--mixed-precision-calculation-type", "float16", "--mixed-precision-acc-type", "float16",
                       "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert _meta(out)["build"]["mixed_precision"] == {"ops": ["relax.matmul"], "calculation_type": "float16",
                                                      "acc_type": "float16"}
    assert run_cli("run", out, "--verify", program="tvmc").returncode == 0


@pytest.mark.parametrize("flags, message", [
    (["--mixed-precision-calculation-type", "bfloat16"], "--mixed-precision-calculation-type 'bfloat16'"),
    (["--mixed-precision-acc-type", "int8"], "--mixed-precision-acc-type 'int8' is not supported"),
    (["--mixed-precision-ops", "nn.softmax"], "'nn.softmax' is not an op ToMixedPrecision converts"),
])
def test_mixed_precision_bad_flags(matmul_onnx, tmp_path, flags, message):
    out = tmp_path / "m.tar"
    _one_line_error(run_cli("compile", matmul_onnx, "--mixed-precision", *flags, "-o", out, program="tvmc"), 4,
                    message)
    assert not out.exists()


def test_mixed_precision_compiles_for_cuda(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", resnet_onnx, "--target", "cuda -arch=sm_90", "--mixed-precision",
                       "--dump-code", "relax", "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    assert _meta(out)["target"]["kind"] == "cuda" and '"float16"' in (tmp_path / "m.tar.relax").read_text()


# --- logging and version --------------------------------------------------------------------------


def test_verbosity_levels(matmul_pkg):
    quiet = run_cli("run", matmul_pkg, program="tvmc")
    assert quiet.returncode == 0 and "INFO" not in quiet.stderr and "DEBUG" not in quiet.stderr
    info = run_cli("run", "-vv", matmul_pkg, program="tvmc")
    assert info.returncode == 0 and "INFO TVMC: tvmc run" in info.stderr and "DEBUG" not in info.stderr
    debug = run_cli("-vvvv", "run", matmul_pkg, program="tvmc")
    assert debug.returncode == 0 and "DEBUG TVMC: arguments:" in debug.stderr


def test_version():
    import tvm

    tvmc = run_cli("--version", program="tvmc")
    assert tvmc.returncode == 0 and tvmc.stdout == f"{tvm.__version__}\n"
    sedge = run_cli("--version")
    assert sedge.returncode == 0 and sedge.stdout.startswith("sedge ") and f"TVM {tvm.__version__}" in sedge.stdout
