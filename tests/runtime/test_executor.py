"""Running packages: outputs equal the reference, weights transformed once, timing and profile."""
import numpy as np
import onnxruntime
import pytest

from sedge.errors import SedgeError
from sedge.runtime.executor import Executor
from sedge.runtime.profiler import profile


def test_outputs_match_onnxruntime_on_batch_inputs(compiled_resnet):
    executor = Executor(compiled_resnet)
    x = np.random.default_rng(3).standard_normal((1, 3, 32, 32)).astype(np.float32)
    got = executor.run({"input": x})[0]
    want = onnxruntime.InferenceSession(compiled_resnet.metadata.source["path"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_weight_only_work_is_lifted_out_of_main(compiled_resnet):
    executor = Executor(compiled_resnet)
    assert executor.vm.module.implements_function("main_transform_params")
    # the linear layer's weight transpose runs once at load: main sees transformed weights
    assert [list(p.shape) for p in executor.params] != [list(p.shape) for p in compiled_resnet.params]


def test_timing_and_profile(compiled_resnet):
    executor = Executor(compiled_resnet)
    inputs = {"input": np.ones((1, 3, 32, 32), np.float32)}
    stats = executor.time(inputs, number=2, repeat=3)
    assert stats.count == 3 and all(ms > 0 for ms in stats.samples_ms)
    rows = profile(executor, inputs, runs=2)
    assert rows and sum(r.percent for r in rows) == pytest.approx(100)
    assert any("conv2d" in r.name for r in rows) and not any(r.name.startswith("vm.builtin") for r in rows)


def test_wrong_device_and_bad_counts(compiled_resnet):
    with pytest.raises(SedgeError, match="run it with --device cpu"):
        Executor(compiled_resnet, "cuda")
    with pytest.raises(SedgeError, match="unknown device 'tpu'"):
        Executor(compiled_resnet, "tpu")
    with pytest.raises(SedgeError, match="must be >= 1"):
        Executor(compiled_resnet).time({"input": np.ones((1, 3, 32, 32), np.float32)}, number=0)


def test_input_tensors_are_refilled_not_reallocated(compiled_resnet):
    """Each call copies into the same device tensor; earlier outputs keep their values."""
    executor = Executor(compiled_resnet)
    rng = np.random.default_rng(4)
    first, second = (rng.standard_normal((1, 3, 32, 32)).astype(np.float32) for _ in range(2))
    out_first = executor.run({"input": first})[0]
    tensor = executor._inputs({"input": first})[0]
    kept = out_first.copy()
    out_second = executor.run({"input": second})[0]
    assert executor._inputs({"input": second})[0].same_as(tensor)
    np.testing.assert_array_equal(out_first, kept)
    session = onnxruntime.InferenceSession(compiled_resnet.metadata.source["path"])
    for x, got in ((first, out_first), (second, out_second)):
        want = session.run(None, {"input": x})[0]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    strided = np.asfortranarray(second)  # any memory order is accepted, as before
    np.testing.assert_allclose(executor.run({"input": strided})[0], out_second, rtol=0, atol=0)
