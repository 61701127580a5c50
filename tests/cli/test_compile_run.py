"""`sedge`/`tvmc` compile and run end to end, in subprocesses, as a user runs them."""
import json
import tarfile

import numpy as np
from conftest import run_cli

from sedge.tvm_passes.target import host_target


def _verified(stdout):
    line = next(l for l in stdout.splitlines() if l.startswith("verify against"))
    assert line.endswith("PASS"), line
    rel = float(line.split("max rel error ")[1].split()[0])
    assert rel <= 1e-4
    return line


def test_sedge_compile_and_run_onnx_matches_onnxruntime(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    compiled = run_cli("compile", resnet_onnx, "-o", out)
    assert compiled.returncode == 0, compiled.stderr
    assert out.is_file() and "compiled" in compiled.stdout
    assert "warning" not in compiled.stderr  # every kernel has a hand schedule
    ran = run_cli("run", out, "--print-time", "--repeat", "3", "--verify")
    assert ran.returncode == 0, ran.stderr
    assert "Execution time summary:" in ran.stdout
    assert "mean (ms)   median (ms)    max (ms)     min (ms)     std (ms)" in ran.stdout
    assert "ONNX Runtime" in _verified(ran.stdout)


def test_tvmc_compile_with_a_tvmc_target_string(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    target = f"llvm -mcpu={host_target()['mcpu']}"
    compiled = run_cli("compile", resnet_onnx, "--target", target, "-o", out, program="tvmc")
    assert compiled.returncode == 0, compiled.stderr
    with tarfile.open(out) as tar:
        meta = json.load(tar.extractfile("metadata.json"))
    assert meta["target"]["mcpu"] == host_target()["mcpu"]
    ran = run_cli("run", out, "--print-time", "--verify", program="tvmc")
    assert ran.returncode == 0, ran.stderr
    _verified(ran.stdout)


def test_a_kernel_left_unscheduled_is_named_in_a_warning(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0)], "argmax",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 10])],
                              [helper.make_tensor_value_info("y", TensorProto.INT64, [2])])
    model = tmp_path / "argmax.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), model)
    out = tmp_path / "s.tar"
    compiled = run_cli("compile", model, "-o", out)
    assert compiled.returncode == 0, compiled.stderr
    assert "warning: 1 kernel(s) run TVM's unscheduled loops" in compiled.stderr
    assert "argmax (no schedule rule fits this kernel)" in compiled.stderr
    with tarfile.open(out) as tar:
        meta = json.load(tar.extractfile("metadata.json"))
    assert list(meta["build"]["unscheduled_kernels"]) == ["argmax"]
    assert run_cli("run", out, "--verify").returncode == 0  # slow is still right


def test_pt2_compiles_runs_and_matches_pytorch(resnet_pt2, tmp_path):
    out = tmp_path / "p.tar"
    assert run_cli("compile", resnet_pt2, "-o", out).returncode == 0
    ran = run_cli("run", out, "--print-time", "--verify")
    assert ran.returncode == 0, ran.stderr
    assert "PyTorch" in _verified(ran.stdout)


def test_inputs_outputs_top_and_profile_files(compiled_resnet, tmp_path):
    x = np.random.default_rng(1).random((1, 3, 32, 32), dtype=np.float32)
    np.savez(tmp_path / "in.npz", input=x)
    ran = run_cli("run", compiled_resnet.path, "--inputs", tmp_path / "in.npz", "--outputs", tmp_path / "out.npz",
                  "--print-top", "3", "--profile", "--profile-out", tmp_path / "prof.csv")
    assert ran.returncode == 0, ran.stderr
    import onnxruntime

    expected = onnxruntime.InferenceSession(compiled_resnet.metadata.source["path"]).run(None, {"input": x})[0]
    got = np.load(tmp_path / "out.npz")["output_0"]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert "The top 3 values of output_0" in ran.stdout
    assert f"{int(np.argmax(expected)):>10}" in ran.stdout.split("index:")[1].splitlines()[0]
    header = (tmp_path / "prof.csv").read_text().splitlines()[0]
    assert header == "name,duration_us,percent,count,shapes"
    assert "conv2d" in ran.stdout and "Percent" in ran.stdout


def test_fill_modes_and_end_to_end(compiled_resnet, tmp_path):
    for mode in ("zeros", "ones"):
        ran = run_cli("run", compiled_resnet.path, "--fill-mode", mode, "--outputs", tmp_path / f"{mode}.npz",
                      "--print-time", "--end-to-end", "--repeat", "2", "--number", "2")
        assert ran.returncode == 0, ran.stderr
    zeros, ones = (np.load(tmp_path / f"{m}.npz")["output_0"] for m in ("zeros", "ones"))
    assert not np.allclose(zeros, ones)


def test_dump_code_and_pass_flags(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    ran = run_cli("compile", resnet_onnx, "-o", out, "--dump-code", "relax,tir,ll,asm", "--print-pass-times",
                  "--print-ir-after", "FuseTIR", "--pass-config", "tir.disable_vectorize=false")
    assert ran.returncode == 0, ran.stderr
    assert "# IR after FuseTIR" in ran.stdout
    assert "FuseOps" in ran.stdout  # the pass-timing table
    for fmt, marker in (("relax", "R.function"), ("tir", "T.prim_func"), ("ll", "define"), ("asm", ".text")):
        assert marker in (tmp_path / f"m.tar.{fmt}").read_text()


def test_disabled_pass_is_not_run(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    assert run_cli("compile", resnet_onnx, "-o", out, "--disabled-pass", "FoldConstant").returncode == 0
    with tarfile.open(out) as tar:
        passes = json.load(tar.extractfile("metadata.json"))["passes"]
    assert "FuseOps" in passes and "FoldConstant" not in passes


def test_config_file_supplies_flags(resnet_onnx, tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"output": str(tmp_path / "from-config.tar"), "opt-level": 2,
                                  "target": "llvm -num-cores=1"}))
    ran = run_cli("compile", resnet_onnx, "--config", config)
    assert ran.returncode == 0, ran.stderr
    with tarfile.open(tmp_path / "from-config.tar") as tar:
        meta = json.load(tar.extractfile("metadata.json"))
    assert meta["build"]["opt_level"] == 2 and meta["target"]["num-cores"] == 1


def test_target_option_flags(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    assert run_cli("compile", resnet_onnx, "-o", out, "--target", "llvm", "--target-llvm-mcpu",
                   host_target()["mcpu"], "--target-llvm-num-cores", "1").returncode == 0
    with tarfile.open(out) as tar:
        target = json.load(tar.extractfile("metadata.json"))["target"]
    assert target["mcpu"] == host_target()["mcpu"] and target["num-cores"] == 1
