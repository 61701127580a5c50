"""`sedge estimate` end to end, from a model file and from a compiled package."""
import csv
import json

import numpy as np
import onnx
import pytest
from conftest import run_cli
from onnx import TensorProto, helper, numpy_helper


def sedge(*args):
    return run_cli(*args, timeout=300)


def write_model(path, channels):
    """conv 3 -> C, relu, strided conv C -> 16 on a 16x16 input."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
               for name, shape in (("w1", (channels, 3, 3, 3)), ("w2", (16, channels, 3, 3)))]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["b"]),
             helper.make_node("Conv", ["b", "w2"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 8, 8])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return str(path)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return write_model(folder / "small.onnx", 4), write_model(folder / "big.onnx", 32)


def test_report_csv_plots_and_savings_against_a_baseline(models, tmp_path):
    small, big = models
    done = sedge("estimate", small, "--board", "zcu104", "--baseline", big, "--precision", "int8",
                 "--csv", str(tmp_path / "layers.csv"), "--plots", str(tmp_path / "plots"))
    assert done.returncode == 0, done.stderr
    assert "Estimate: small.onnx on board zcu104, int8" in done.stdout
    assert "Against baseline big.onnx on the same board:" in done.stdout
    rows = list(csv.DictReader(open(tmp_path / "layers.csv")))
    assert [row["op"] for row in rows] == ["conv2d", "elementwise", "conv2d"]
    assert int(float(rows[0]["macs"])) == 4 * 3 * 9 * 16 * 16
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["dram_per_layer.png", "energy_breakdown.png"]


def test_json_holds_totals_and_per_layer_splits(models):
    small, big = models
    done = sedge("estimate", big, "--board", "cortex-m7", "--baseline", small, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["totals"]["parameter_bytes"] == 4 * (32 * 3 * 9 + 16 * 32 * 9)
    assert set(data["layers"][0]["dram_bytes"]) == {"weights", "inputs", "outputs"}
    assert set(data["layers"][0]["energy_pj"]) == {"mult", "add", "DTCM", "SRAM", "SDRAM"}
    assert data["savings"]["parameter_bytes"] < 1  # the baseline here is the smaller model


def test_bad_input_is_one_line_exit_4_and_writes_nothing(models, tmp_path):
    small, _ = models
    out = tmp_path / "layers.csv"
    for args, message in (
        (["--board", "nope"], "unknown board 'nope'; available:"),
        (["--calibrate", f"{small}=fast"], "is not a latency; allowed: seconds"),
        (["--board", "zcu104", "--calibrate", small], "needs --board host"),
    ):
        done = sedge("estimate", small, "--csv", str(out), *args)
        assert done.returncode == 4 and message in done.stderr and done.stderr.count("\n") == 1
        assert not out.exists() and list(tmp_path.iterdir()) == []
    done = sedge("estimate", small, "--csv", str(tmp_path / "missing" / "x.csv"))
    assert done.returncode == 4 and "does not exist" in done.stderr


def test_from_a_compiled_package_with_calibration_on_this_host(models, tmp_path):
    small, big = models
    package = str(tmp_path / "small.tar")
    assert sedge("compile", small, "-o", package).returncode == 0
    from_model = json.loads(sedge("estimate", small, "--board", "host", "--json").stdout)
    done = sedge("estimate", package, "--board", "host", "--json", "--calibrate", package, f"{big}=2ms")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [l["name"] for l in data["layers"]] == [l["name"] for l in from_model["layers"]]
    assert data["totals"]["dram_bytes_total"] == from_model["totals"]["dram_bytes_total"]
    calibration = data["calibration"]
    assert [m["model"] for m in calibration["models"]] == ["small.tar", "big.onnx"]
    assert calibration["models"][1]["measured_s"] == 0.002 and calibration["models"][0]["measured_s"] > 0
