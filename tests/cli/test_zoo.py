"""`sedge zoo list | info | export`, and a zoo model compiled by sedge and verified end to end."""
import json

import numpy as np
import onnxruntime
import torch
from conftest import run_cli

from sedge.frontend.zoo import build


def test_list_shows_the_published_configurations():
    listed = run_cli("zoo", "list")
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert {"resnet18-struct-a", "mobilenetv2-struct-b", "resnet56-csg-16x16-128", "wrn-28-10-shuffle-8",
            "wrn-40-2-acdc", "wrn-40-2-rf-0.5", "resnet18-fft-50"} <= set(names)


def test_info_json_counts_params_macs_and_adds():
    shown = run_cli("zoo", "info", "resnet56-csg-16x16-128", "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["params"] == 347_162 and info["macs"] == 125_485_696 and info["adds"] == 0
    assert sum(layer["kind"] == "CSGConv2d" for layer in info["layers"]) == 54


def test_info_table_lists_layers_with_adds():
    shown = run_cli("zoo", "info", "resnet20-struct-a")
    assert shown.returncode == 0, shown.stderr
    assert "StructuredConv2d" in shown.stdout and "adds" in shown.stdout.splitlines()[1]


def test_export_onnx_runs_in_onnx_runtime(tmp_path):
    out = tmp_path / "m.onnx"
    exported = run_cli("zoo", "export", "resnet8-csg-4x4-8", "-o", out)
    assert exported.returncode == 0, exported.stderr
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    with torch.no_grad():
        want = build("resnet8-csg-4x4-8", seed=0)(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))


def test_exported_structured_model_compiles_and_verifies(tmp_path):
    onnx_path, package = tmp_path / "m.onnx", tmp_path / "m.tar"
    assert run_cli("zoo", "export", "resnet8-struct-a", "-o", onnx_path).returncode == 0
    compiled = run_cli("compile", onnx_path, "-o", package)
    assert compiled.returncode == 0, compiled.stderr
    ran = run_cli("run", package, "--verify")
    assert ran.returncode == 0, ran.stderr
    assert any(line.startswith("verify against ONNX Runtime") and line.endswith("PASS")
               for line in ran.stdout.splitlines()), ran.stdout


def test_bad_name_and_bad_suffix_are_one_line_errors(tmp_path):
    unknown = run_cli("zoo", "info", "resnet57")
    assert unknown.returncode == 4 and "6k+2" in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    bad = run_cli("zoo", "export", "resnet20", "-o", tmp_path / "m.h5")
    assert bad.returncode == 4 and ".onnx, .pt2" in bad.stderr
    assert not list(tmp_path.iterdir())


def test_zoo_model_compiles_from_its_name_and_verifies_against_pytorch(tmp_path):
    package = tmp_path / "m.tar"
    compiled = run_cli("compile", "zoo:resnet8-csg-4x4-8", "-o", package)
    assert compiled.returncode == 0, compiled.stderr
    ran = run_cli("run", package, "--verify")
    assert ran.returncode == 0, ran.stderr
    assert any(line.startswith("verify against PyTorch") and line.endswith("PASS")
               for line in ran.stdout.splitlines()), ran.stdout
