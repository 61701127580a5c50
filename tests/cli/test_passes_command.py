"""`sedge passes list` prints the recipe; pass names given to the compiler are checked."""
import json
import tarfile

import tvm
from conftest import run_cli

from sedge.tvm_passes.pass_names import canonical_names, recipe_names
from sedge.tvm_passes.pipeline import REWRITE
from sedge.tvm_passes.target import host_target

HOST = tvm.target.Target(host_target())


def test_passes_list_prints_the_phases_and_passes_in_run_order():
    done = run_cli("passes", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    phases = [line[:-1] for line in lines if line and not line.startswith(" ")]
    assert phases == ["import-cleanup", "rewrite", "lift-params", "dispatch", "legalize", "schedule", "lower",
                      "finalize"]
    rewrite = lines[lines.index("rewrite:") + 1:lines.index("lift-params:") - 1]
    assert [line.split()[0] for line in rewrite] == [factory(HOST).info.name for factory in REWRITE]
    assert "FoldBatchNorm           Inference batch-norms" in done.stdout  # each pass with its summary
    assert "SedgeCpuSchedules" in done.stdout


def test_passes_list_for_a_gpu_target_shows_its_schedules():
    done = run_cli("passes", "list", "--target", "cuda -arch=sm_90")
    assert done.returncode == 0, done.stderr
    assert "SedgeGpuSchedules" in done.stdout and "ApplyDefaultSchedule" in done.stdout
    assert "SedgeCpuSchedules" not in done.stdout


def test_a_misspelt_disabled_pass_is_refused_with_the_valid_names(resnet_onnx, tmp_path):
    out = tmp_path / "m.tar"
    done = run_cli("compile", resnet_onnx, "--disabled-pass", "FoldBatchNrm", "-o", out)
    assert done.returncode == 4
    assert done.stderr.startswith("sedge: error: unknown pass name(s) FoldBatchNrm in --disabled-pass; valid: ")
    assert "FoldBatchNorm" in done.stderr and "ChannelsLast" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()


def test_tvmc_tir_names_print_the_ir_around_their_0_27_pass(resnet_onnx, tmp_path):
    done = run_cli("compile", resnet_onnx, "--print-ir-after", "tir.UnrollLoop", "-o", tmp_path / "m.tar",
                   program="tvmc")
    assert done.returncode == 0, done.stderr
    assert "# IR after tirx.UnrollLoop" in done.stdout


def test_every_pass_a_compile_runs_is_a_valid_name(compiled_resnet):
    with tarfile.open(compiled_resnet.path) as tar:
        ran = json.loads(tar.extractfile("metadata.json").read())["passes"]
    named = [p for p in ran if p not in ("sequential", "_pipeline")]  # TVM's anonymous wrappers
    assert {factory(HOST).info.name for factory in REWRITE} <= set(recipe_names(HOST))
    assert canonical_names(named, "--disabled-pass", HOST) == named
