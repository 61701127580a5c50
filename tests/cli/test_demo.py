"""`sedge demo`: the README's first command, end to end."""
import json

from conftest import run_cli


def test_demo_compiles_verifies_times_and_estimates_both_variants(tmp_path):
    result = run_cli("demo", "-o", tmp_path / "report", "--repeat", "3")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""  # nothing but the report for the user
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["verified"]
    variants = {v["name"]: v for v in report["variants"]}
    assert set(variants) == {"dense", "structured"}
    for v in variants.values():
        assert v["verified"] and v["sedge_ms"] > 0 and v["onnxruntime_ms"] > 0
    # structured c = C, n = 2 keeps 4 of 9 taps: fewer MACs (the 2x2 sum-pools fold into the
    # small convs' Winograd input transforms, or run as kernels of their own: adds as they run)
    assert variants["structured"]["macs"] < 0.6 * variants["dense"]["macs"]
    assert variants["structured"]["adds"] >= variants["dense"]["adds"]
    assert variants["structured"]["params"] < variants["dense"]["params"]
    estimate = json.loads((tmp_path / "report" / "estimate.json").read_text())
    assert estimate["board"] == "raspberry-pi-4" and estimate["savings"]["parameter_bytes"] > 1.5
    # each structured layer's lowering, with every option's estimate, and the plot
    assert len(report["lowerings"]) == 6
    for row in report["lowerings"]:
        assert row["choice"] in [o["name"] for o in row["options"]] and row["reason"].startswith(row["choice"])
    assert report["estimated_ms"]["structured"] < report["estimated_ms"]["dense"]
    assert (tmp_path / "report" / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("report.md", "estimate.txt", "demonet-dense.onnx", "demonet-structured.tar"):
        assert (tmp_path / "report" / name).is_file()
    assert "Estimated on board raspberry-pi-4" in result.stdout


def test_demo_with_an_unknown_board_fails_cleanly(tmp_path):
    result = run_cli("demo", "-o", tmp_path / "r", "--board", "no-such-board")
    assert result.returncode == 4 and "no-such-board" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "r" / "report.md").exists()
