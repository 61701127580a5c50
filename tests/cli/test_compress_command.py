"""`sedge compress`: per-layer report, a written model that compiles, one-line errors."""
import onnxruntime
import numpy as np

from conftest import run_cli


def test_structured_compression_reports_and_writes_onnx(tmp_path):
    out = tmp_path / "m.onnx"
    ran = run_cli("compress", "zoo:resnet8", "--method", "structured", "--n", "2", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert "6 layers: 73,728 -> 32,768 parameters (2.25x)" in ran.stdout and "fine-tuning" in ran.stdout
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.ones((1, 3, 32, 32), np.float32)})[0].shape == (1, 10)


def test_bad_settings_write_nothing(tmp_path):
    ran = run_cli("compress", "resnet8", "--method", "structured", "--c-ratio", "1.5", "-o", tmp_path / "m.pt")
    assert ran.returncode == 4 and "0 < c_ratio <= 1" in ran.stderr
    assert not list(tmp_path.iterdir())
