"""The benchmark harness: ratios are taken to the peer that ran on the same device, and a
model that fails, however it fails, is a row of the report, not the end of the run."""
import functools
import json
import operator
import signal
from pathlib import Path

import pytest

from benchmarks import models
from benchmarks.models import ChildProcessDied, ModelResult, in_child_process, markdown

HOST = {"cpu": "test CPU", "cpu_flags": ["avx2"], "threads": 2, "logical_cpus": 2, "date": "today",
        "versions": {"sedge": "0"}}


def _result(peer, **latency):
    return ModelResult(model="m", sedge_source="onnx", peer=peer, latency_ms=latency, compile_seconds=1.0,
                       max_rel_error=1e-7, verified=True)


def test_on_the_cpu_every_engine_is_compared_with_onnx_runtime():
    table = markdown([_result("onnxruntime", sedge=1.0, onnxruntime=2.0, pytorch=4.0)], HOST, repeat=3)
    assert "| sedge / ORT | PyTorch / ORT |" in table
    assert "| 1.00 | 2.00 | 4.00 | 0.50x | 2.00x |" in table and "GPU" not in table


def test_the_compile_column_gives_the_compilers_cpu_time_beside_the_wall_clock():
    """On a shared machine the wall clock counts other processes' turns; the CPU time is the
    compiler's own work (densenet121: 36 s wall, ~16 s CPU under a load of 5 on 2 cores)."""
    result = _result("onnxruntime", sedge=1.0, onnxruntime=2.0)
    assert "| 1.0 | 1.0e-07 PASS |" in markdown([result], HOST, repeat=3)  # not measured: wall only
    result.compile_cpu_seconds = 0.5
    assert "| 1.0 (0.5 CPU) | 1.0e-07 PASS |" in markdown([result], HOST, repeat=3)


def test_on_a_gpu_without_onnx_runtime_there_pytorch_is_the_peer():
    host = {**HOST, "gpu": "NVIDIA H200 (sm_90)"}
    table = markdown([_result("pytorch", sedge=1.0, pytorch=4.0)], host, repeat=3)
    assert "| sedge / PyTorch | ORT / PyTorch |" in table
    assert "| 1.00 | - | 4.00 | 0.25x | - |" in table  # ORT was the untimed CPU reference
    assert "GPU: NVIDIA H200 (sm_90)" in table and "TF32 off" in table


def test_the_float16_build_is_a_column_only_when_it_ran():
    mixed = _result("onnxruntime", sedge=1.0, onnxruntime=2.0, pytorch=4.0, **{"sedge-fp16": 3.0})
    mixed.fp16_max_rel_error = 2.5e-4
    table = markdown([mixed], HOST, repeat=3)
    assert "| sedge (ms) | sedge fp16 (ms) | ONNX Runtime (ms) |" in table
    assert "| 1.00 | 3.00 | 2.00 | 4.00 | 0.50x | 1.50x | 2.00x |" in table
    assert "1.0e-07 (fp16 2.5e-04) PASS" in table and "sedge fp16 within 1e-2" in table
    assert "fp16" not in markdown([_result("onnxruntime", sedge=1.0, onnxruntime=2.0)], HOST, repeat=3)


def test_a_model_that_did_not_run_is_a_row_saying_why():
    failed = ModelResult.failed("bad.onnx", "unsupported operator 'Foo'")
    table = markdown([failed, _result("onnxruntime", sedge=1.0, onnxruntime=2.0, pytorch=4.0)], HOST, repeat=3)
    assert "| bad.onnx | - | - | - | - | - | - | - | - | failed: unsupported operator 'Foo' |" in table
    assert "| sedge / ORT | PyTorch / ORT |" in table  # the peer comes from the model that ran


def test_one_failing_model_does_not_end_the_run(tmp_path, monkeypatch, capsys):
    """A refused model and a compiler bug each become a row; the models after them still
    run; the exit code is the first failure's, and both files are written."""
    from sedge.errors import ModelImportError

    def bench_model(name, *args):
        if name == "refused.onnx":
            raise ModelImportError("model file 'refused.onnx' is not an ONNX model")
        if name == "buggy":
            raise AssertionError("emit_te now only supports Tensor that has ShapeExpr shape\nmore detail")
        return _result("onnxruntime", sedge=1.0, onnxruntime=2.0)

    monkeypatch.setattr(models, "bench_model", bench_model)
    monkeypatch.setattr(models, "in_child_process", lambda function, *args: function(*args))
    code = models.main(["refused.onnx", "buggy", "good", "-o", str(tmp_path), "--repeat", "1"])
    assert code == ModelImportError.exit_code
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: refused.onnx: model file 'refused.onnx' is not an ONNX model",
                   "error: buggy: internal error: AssertionError: emit_te now only supports Tensor that has ShapeExpr "
                   "shape"]
    rows = json.loads((tmp_path / "models.json").read_text())["results"]
    assert [r["error"] for r in rows] == ["model file 'refused.onnx' is not an ONNX model",
                                          "internal error: AssertionError: emit_te now only supports Tensor that has "
                                          "ShapeExpr shape", None]
    assert rows[2]["latency_ms"] == {"sedge": 1.0, "onnxruntime": 2.0}
    assert "failed: internal error: AssertionError" in (tmp_path / "models.md").read_text()


def test_a_model_runs_in_a_process_of_its_own():
    assert in_child_process(operator.mul, 6, 7) == 42


def test_a_killed_model_process_is_reported_with_its_signal():
    """What the out-of-memory killer does to ONNX Runtime's session for resnet18-fft-50."""
    with pytest.raises(ChildProcessDied, match=r"^its process was killed by SIGKILL after \d+ s \(the "
                                               r"out-of-memory killer's signal\)$"):
        in_child_process(functools.partial(signal.raise_signal, signal.SIGKILL))


def test_a_killed_model_is_a_row_and_the_report_is_written_after_every_model(tmp_path, monkeypatch, capsys):
    """The killed model's row says so and the next model runs; when the run itself is stopped
    (here at the third model), the report already holds the rows finished before."""
    def in_child(function, name, *args):
        if name == "huge":
            raise ChildProcessDied("its process was killed by SIGKILL after 87 s (the out-of-memory killer's signal)")
        if name == "stopped":
            raise KeyboardInterrupt
        return _result("onnxruntime", sedge=1.0, onnxruntime=2.0), 0

    monkeypatch.setattr(models, "in_child_process", in_child)
    with pytest.raises(KeyboardInterrupt):
        models.main(["huge", "good", "stopped", "-o", str(tmp_path), "--repeat", "1"])
    assert capsys.readouterr().err == ("error: huge: its process was killed by SIGKILL after 87 s (the out-of-memory "
                                       "killer's signal)\n")
    rows = json.loads((tmp_path / "models.json").read_text())["results"]
    assert [r["error"] for r in rows] == ["its process was killed by SIGKILL after 87 s (the out-of-memory killer's "
                                          "signal)", None]
    table = (tmp_path / "models.md").read_text()
    assert "| huge | - |" in table and "failed: its process was killed by SIGKILL" in table
    assert "| 1.00 | 2.00 |" in table


def test_a_file_that_is_no_onnx_model_is_refused_as_sedge_refuses_it(tmp_path):
    from sedge.errors import ModelImportError

    junk = tmp_path / "junk.onnx"
    junk.write_text("junk")
    with pytest.raises(ModelImportError, match="junk.onnx' is not a valid ONNX model"):
        models._prepare(str(junk), tmp_path)


def test_a_compressed_model_is_compared_with_its_dense_parent_in_the_same_run():
    from dataclasses import replace

    dense = replace(_result("onnxruntime", sedge=10.0, onnxruntime=12.0), model="resnet18")
    structured = replace(_result("onnxruntime", sedge=6.0, onnxruntime=12.0), model="resnet18-struct-a")
    lonely = replace(_result("onnxruntime", sedge=3.0, onnxruntime=2.0), model="mobilenetv2-struct-b")
    table = markdown([structured, dense, lonely], HOST, repeat=3)
    assert "sedge / its dense parent" in table
    row = next(line for line in table.splitlines() if line.startswith("| resnet18-struct-a "))
    assert "| 0.60x of resnet18 |" in row
    assert " of " not in next(line for line in table.splitlines() if line.startswith("| mobilenetv2-struct-b "))
    # no pair, no column
    assert "dense parent" not in markdown([dense], HOST, repeat=3)


def test_structured_layers_feed_each_layer_channels_last():
    """benchmarks.structured_layers times a layer as a model runs it, its input and output
    channels-last (a one-layer model fed NCHW charged the sum-pool a transpose fold never paid)."""
    import torch

    from benchmarks.structured_layers import channels_last
    from sedge.frontend.layers.structured import StructuredConv2d

    layer = StructuredConv2d(8, 4, 1, 5, 1).eval()
    x = torch.randn(1, 8, 3, 5)
    with torch.no_grad():
        got = channels_last(layer)(x.permute(0, 2, 3, 1))
        assert torch.allclose(got.permute(0, 3, 1, 2), layer(x))


def test_interleaved_packages_are_given_over_the_reference():
    from benchmarks.interleaved import ratios

    rows = ratios({"dense.tar": [10.0] * 9 + [50.0], "struct.tar": [7.0] * 10}, "dense.tar")
    assert [r["package"] for r in rows] == ["dense.tar", "struct.tar"]
    assert rows[0]["median_ratio"] == 1.0 and rows[1]["median_ratio"] == 0.7
    assert rows[1]["p10_ratio"] == 0.7, "a slow outlier moves neither figure"


def test_each_structured_kernel_row_is_compared_with_its_dense_parent_in_the_same_form():
    """benchmarks.kernels: every Struct-ResNet-A small conv row has the resnet18 conv of its
    stage as parent, direct beside direct and Winograd beside Winograd, and the multiplies
    per output each form does: 4/9 direct, F(4x4, 2x2) over F(4x4, 3x3) = 25/36 at 56x56."""
    from benchmarks import kernels

    for name, parent in kernels.PARENTS.items():
        assert parent in {**kernels.KERNELS, **kernels.WINOGRAD}
        assert name.endswith("Winograd") == parent.endswith("Winograd")
        assert kernels._output_size({**kernels.KERNELS, **kernels.WINOGRAD}[name]) == \
            kernels._output_size({**kernels.KERNELS, **kernels.WINOGRAD}[parent])
    assert "structured 2x2 unpadded 8x8x512 Winograd" not in kernels.WINOGRAD  # 7x7 out: odd
    assert kernels._products("structured 2x2 unpadded 8x8x512") / kernels._products("resnet18 3x3 7x7x512") == 4 / 9
    assert kernels._products("structured 2x2 unpadded 57x57x64 Winograd") == 25 / 16
    assert kernels._products("resnet18 3x3 56x56x64 Winograd") == 36 / 16


def test_packages_timed_in_turn_each_get_their_runs():
    from benchmarks.interleaved import BLOCK, time_in_turn

    calls = []
    samples = time_in_turn({"a": (calls.append, ["a"]), "b": (calls.append, ["b"])}, repeat=BLOCK + 1)
    assert [len(s) for s in samples.values()] == [2 * BLOCK] * 2, "whole blocks, until each has its runs"
    assert calls[:BLOCK + 1] == ["a"] * (BLOCK + 1) and calls[BLOCK + 1] == "b", "a block of one, then the other"


def test_structured_layers_know_where_each_layer_runs_in_its_model():
    """benchmarks.structured_layers --in-model forces a layer by its place among its model's
    structured convs: every place is counted once, in the order the layers run."""
    from benchmarks.structured_layers import distinct_layers

    layers = distinct_layers(["resnet18-struct-a"])
    positions = sorted(p for _module, _shape, occurrences in layers.values() for _name, p in occurrences)
    assert positions == list(range(len(positions))) and len(positions) > len(layers)
    first = next(iter(layers.values()))
    assert first[2][0] == ("resnet18-struct-a", 0), "the first key is the first structured conv to run"


def test_the_sum_pool_benchmark_times_two_versions_of_the_kernel_and_checks_both(tmp_path, monkeypatch, capsys):
    """benchmarks.sum_pool --against OLD.py: each geometry built from both files, timed in
    turn, each checked against the method's PyTorch sum-pool."""
    from benchmarks import sum_pool as bench

    monkeypatch.setattr(bench, "geometries", lambda: {"c5 of 12 4x4": ((1, 4, 4, 12), 1, 5, 2, 1)})
    monkeypatch.setenv("TVM_NUM_THREADS", "1")  # main sets it: restored after the test
    current = Path(bench.__file__).parents[1] / "tvm_passes" / "kernels" / "sum_pool.py"
    rows = tmp_path / "rows.json"
    assert bench.main(["--against", str(current), "--rounds", "1", "--json", str(rows)]) == 0
    [row] = json.loads(rows.read_text())
    assert set(row["us"]) == {"this", "against"} and row["max_rel_error"] < 1e-6
    assert "| c5 of 12 4x4 |" in capsys.readouterr().out
