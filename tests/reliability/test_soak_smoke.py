"""A short serial soak (the full one: python -m benchmarks.serial_soak, docs/reliability.md):
faults on a pty line and a disconnect mid-upload, no wrong result, the upload resumed."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for `benchmarks`

from benchmarks.serial_soak import soak  # noqa: E402


def test_short_soak_has_no_wrong_result_and_resumes():
    result = soak(frames=600, corrupt=0.02, drop=0.005, seed=1, log=lambda *a: None)
    assert result["wrong_results"] == 0
    assert result["resumed_uploads"] == 1 and result["faults_injected"]["disconnect"] == 1
    injected = result["faults_injected"]
    assert result["faults_detected"]["total"] + injected["start_marker_hit"] >= injected["frames_faulted"] - 2
    assert result["board_errors"] == []
