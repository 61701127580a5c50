"""Timing statistics and tvmc's --print-time format."""
import pytest

from sedge.runtime.stats import TimingStats


def test_summary_values():
    stats = TimingStats((4.0, 1.0, 2.0, 3.0))
    s = stats.summary()
    assert s["count"] == 4 and s["first"] == 4.0 and s["min"] == 1.0 and s["max"] == 4.0
    assert s["mean"] == 2.5 and s["median"] == 2.5
    assert s["std"] == pytest.approx(1.118034, rel=1e-6)
    assert s["p5"] == pytest.approx(1.15) and s["p95"] == pytest.approx(3.85)


def test_tvmc_table_layout():
    lines = TimingStats((1.0, 2.0, 3.0)).tvmc_table().splitlines()
    assert lines[0] == "Execution time summary:"
    assert lines[1].split() == ["mean", "(ms)", "median", "(ms)", "max", "(ms)", "min", "(ms)", "std", "(ms)"]
    assert lines[2].split() == ["2.0000", "2.0000", "3.0000", "1.0000", "0.8165"]
