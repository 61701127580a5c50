"""`sedge tune`: option checks, and a tiny end-to-end search whose records compile back."""
import json

import numpy as np
import pytest
import torch

from sedge.contract import TensorSpec
from sedge.errors import SedgeError
from sedge.frontend.model import Model
from sedge.tvm_passes.tune import RECORD_FILES, TuneOptions, tune_model


def _conv_model():
    """One 3x3 conv + ReLU, NCHW, as the importers hand it over."""
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 8, 6, 6), "float32"))
    w = relax.Var("w", relax.TensorType((16, 8, 3, 3), "float32"))
    with bb.function("main", [x, w], {"num_input": 1}):
        with bb.dataflow():
            out = bb.emit_output(relax.op.nn.relu(relax.op.nn.conv2d(x, w, padding=1)))
        bb.emit_func_output(out)
    weight = np.random.default_rng(0).standard_normal((16, 8, 3, 3), dtype=np.float32)
    return Model(bb.get(), [weight], ["w"], [TensorSpec("x", [1, 8, 6, 6], "float32")], {"format": "test"})


@pytest.mark.parametrize("changes, message", [
    ({"trials": 0}, "--trials"),
    ({"early_stopping": 0}, "--early-stopping"),
    ({"rpc_tracker": "127.0.0.1:9190"}, "--rpc-key"),
    ({"rpc_tracker": "nohost", "rpc_key": "k"}, "host:port"),
    ({"tuning_records": "/nonexistent"}, "holds no records"),
])
def test_bad_options_are_one_line_errors(tmp_path, changes, message):
    with pytest.raises(SedgeError, match=message):
        tune_model(_conv_model(), TuneOptions(output=str(tmp_path / "records"), **changes))


def test_tiny_search_keeps_the_hand_schedule_and_compiles_back(tmp_path):
    import tvm
    from tvm import relax

    from sedge.tvm_passes.pipeline import sedge_pipeline

    records = tmp_path / "records"
    model = _conv_model()
    tune_model(model, TuneOptions(output=str(records), trials=2, number=1, timeout=30, progress=False))
    assert all((records / name).is_file() for name in RECORD_FILES)
    lines = (records / "database_tuning_record.json").read_text().splitlines()
    traces = [json.dumps(json.loads(line)) for line in lines]
    assert any("EnterPostproc" not in t and "DecomposeReduction" in t for t in traces), \
        "the hand conv schedule (a trace without MetaSchedule post-processing) is a record"
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(_host(), str(records))(model.mod)
        executable = tvm.compile(lowered, _host(), relax_pipeline=None)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(model.params[0])]
    if vm.module.implements_function("main_transform_params"):
        params = list(vm["main_transform_params"](params))
    x = np.random.default_rng(1).standard_normal((1, 8, 6, 6), dtype=np.float32)
    got = vm["main"](tvm.runtime.tensor(x), *params).numpy()
    want = torch.relu(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(model.params[0]), padding=1)).numpy()
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))


def _host():
    import tvm

    from sedge.tvm_passes.target import host_target

    return tvm.target.Target(host_target())


def test_a_runner_that_runs_nothing_is_an_error_and_leaves_no_records(tmp_path, monkeypatch):
    """Every measurement failing (a board gone, too short a timeout) stops before the search,
    naming the first failure: the records would otherwise hold only failure markers."""
    from tvm.s_tir import meta_schedule as ms

    import sedge.tvm_passes.tune as tune

    class Failed:
        def result(self):
            return ms.runner.RunnerResult(run_secs=None, error_msg="RPCError: the board went away\ntraceback...")

    class Unreachable:
        def run(self, inputs):
            return [Failed() for _ in inputs]

    monkeypatch.setattr(tune, "_runner", lambda options, target: Unreachable())
    records = tmp_path / "records"
    with pytest.raises(SedgeError, match="no kernel ran on this machine: RPCError: the board went away$"):
        tune_model(_conv_model(), TuneOptions(output=str(records), trials=2, progress=False))
    assert not records.exists()

