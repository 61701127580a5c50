"""The benchmark harness's table: ratios are taken to the peer that ran on the same device."""
from benchmarks.models import ModelResult, markdown

HOST = {"cpu": "test CPU", "cpu_flags": ["avx2"], "threads": 2, "logical_cpus": 2, "date": "today",
        "versions": {"sedge": "0"}}


def _result(peer, **latency):
    return ModelResult(model="m", sedge_source="onnx", peer=peer, latency_ms=latency, compile_seconds=1.0,
                       max_rel_error=1e-7, verified=True)


def test_on_the_cpu_every_engine_is_compared_with_onnx_runtime():
    table = markdown([_result("onnxruntime", sedge=1.0, onnxruntime=2.0, pytorch=4.0)], HOST, repeat=3)
    assert "| sedge / ORT | PyTorch / ORT |" in table
    assert "| 1.00 | 2.00 | 4.00 | 0.50x | 2.00x |" in table and "GPU" not in table


def test_on_a_gpu_without_onnx_runtime_there_pytorch_is_the_peer():
    host = {**HOST, "gpu": "NVIDIA H200 (sm_90)"}
    table = markdown([_result("pytorch", sedge=1.0, pytorch=4.0)], host, repeat=3)
    assert "| sedge / PyTorch | ORT / PyTorch |" in table
    assert "| 1.00 | - | 4.00 | 0.25x | - |" in table  # ORT was the untimed CPU reference
    assert "GPU: NVIDIA H200 (sm_90)" in table and "TF32 off" in table
