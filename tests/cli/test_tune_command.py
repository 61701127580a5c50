"""`sedge tune` / `tvmc tune` on the command line: flags and one-line errors."""
import pytest

from conftest import run_cli


@pytest.mark.parametrize("program", ["sedge", "tvmc"])
def test_tune_offers_tvmc_flags(program):
    result = run_cli("tune", "--help", program=program)
    assert result.returncode == 0
    for flag in ("--trials", "--early-stopping", "--number", "--repeat", "--timeout", "--tuning-records",
                 "--rpc-tracker", "--rpc-key", "--output"):
        assert flag in result.stdout


def test_bad_tracker_is_a_one_line_error(resnet_onnx, tmp_path):
    result = run_cli("tune", resnet_onnx, "-o", tmp_path / "records", "--rpc-tracker", "nohost", "--rpc-key", "k")
    assert result.returncode == 4
    assert result.stderr.strip().count("\n") == 0 and "host:port" in result.stderr
    assert not (tmp_path / "records").exists()
