"""`sedge demo`: the README's first command, end to end."""
import json

from conftest import run_cli


def test_demo_verifies_times_and_writes_a_report(tmp_path):
    result = run_cli("demo", "-o", tmp_path / "report", "--repeat", "3")
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout and "onnxruntime" in result.stdout
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["verified"] and set(report["latency_ms"]) >= {"sedge", "onnxruntime"}
    assert all(ms > 0 for ms in report["latency_ms"].values())
    for name in ("report.md", "demonet.onnx", "demonet.tar"):
        assert (tmp_path / "report" / name).is_file()
