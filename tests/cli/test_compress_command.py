"""`sedge compress`: per-layer report, a written model that compiles, one-line errors."""
import numpy as np
import onnxruntime
import torch
from conftest import run_cli

from sedge.frontend.compress import compress
from sedge.frontend.zoo import build


def test_structured_compression_reports_and_writes_onnx(tmp_path):
    out = tmp_path / "m.onnx"
    ran = run_cli("compress", "zoo:resnet8", "--method", "structured", "--n", "2", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert "6 layers: 73,728 -> 32,768 parameters (2.25x)" in ran.stdout and "fine-tuning" in ran.stdout
    model = build("resnet8", seed=0)
    compress(model, "structured", {"n": 2})
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))


def test_bad_settings_write_nothing(tmp_path):
    ran = run_cli("compress", "resnet8", "--method", "structured", "--c-ratio", "1.5", "-o", tmp_path / "m.pt")
    assert ran.returncode == 4 and "0 < c_ratio <= 1" in ran.stderr
    assert not list(tmp_path.iterdir())
