"""`sedge tune` / `tvmc tune` on the command line: flags and one-line errors."""
import pytest
from conftest import run_cli


@pytest.mark.parametrize("program", ["sedge", "tvmc"])
def test_tune_offers_tvmc_flags(program):
    result = run_cli("tune", "--help", program=program)
    assert result.returncode == 0
    for flag in ("--trials", "--early-stopping", "--number", "--repeat", "--timeout", "--tuning-records",
                 "--rpc-tracker", "--rpc-key", "--output"):
        assert flag in result.stdout


def test_bad_tracker_is_a_one_line_error(resnet_onnx, tmp_path):
    result = run_cli("tune", resnet_onnx, "-o", tmp_path / "records", "--rpc-tracker", "nohost", "--rpc-key", "k")
    assert result.returncode == 4
    assert result.stderr.strip().count("\n") == 0 and "host:port" in result.stderr
    assert not (tmp_path / "records").exists()


def test_unreachable_tracker_is_a_one_line_error_before_any_work(resnet_onnx, tmp_path):
    result = run_cli("tune", resnet_onnx, "-o", tmp_path / "records", "--rpc-tracker", "127.0.0.1:1",
                     "--rpc-key", "k", timeout=60)
    assert result.returncode == 4
    assert result.stderr.strip().count("\n") == 0 and "cannot reach the RPC tracker at 127.0.0.1:1" in result.stderr
    assert not (tmp_path / "records").exists()


def test_tune_through_an_rpc_tracker_times_candidates_on_its_servers(tmp_path, tracker):
    """A real tracker and servers on 127.0.0.1: candidates are built here, uploaded to and
    timed by the servers, and `sedge compile --tuning-records` builds a model that verifies."""
    import json

    import numpy as np
    import onnx
    from conftest import RPC_KEY
    from onnx import TensorProto, helper, numpy_helper

    weight = np.random.default_rng(0).standard_normal((16, 8, 3, 3), dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1] * 4), helper.make_node("Relu", ["y"], ["z"])], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 16, 6, 6])], [numpy_helper.from_array(weight, "w")])
    model = tmp_path / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), model)
    records = tmp_path / "records"
    result = run_cli("tune", model, "-o", records, "--trials", "2", "--number", "1", "--timeout", "30",
                     "--rpc-tracker", tracker, "--rpc-key", RPC_KEY)
    assert result.returncode == 0, result.stderr
    timed = {}  # workload -> its records' best seconds (a failed candidate reads 1e10)
    for line in (records / "database_tuning_record.json").read_text().splitlines():
        workload, (_, secs, *_) = json.loads(line)
        timed[workload] = min(timed.get(workload, 1e10), *secs)
    assert timed and all(0 < s < 1 for s in timed.values()), f"a kernel was not timed on a server: {timed}"
    package = tmp_path / "conv.tar"
    assert run_cli("compile", model, "--tuning-records", records, "-o", package).returncode == 0
    verified = run_cli("run", package, "--verify")
    assert verified.returncode == 0 and "PASS" in verified.stdout, verified.stdout + verified.stderr
