"""`sedge run PKG --port URL`: the command line driving a real agent over a pty pair."""
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from sedge.errors import SedgeError
from sedge.runtime.remote import run_remote

sys.path.insert(0, str(Path(__file__).parents[1] / "runtime"))  # the device-test helpers live there
from board_fixtures import EXPECTED, X, start_agent, tiny_package  # noqa: E402
from faultline import FaultyLine  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("device")
    package = tiny_package(tmp)
    np.savez(tmp / "inputs.npz", x=X)
    np.savez(tmp / "expected.npz", output_0=EXPECTED)
    np.savez(tmp / "wrong.npz", output_0=EXPECTED + 1)
    line = FaultyLine()
    agent = start_agent(line.board_path, tmp / "agent")
    yield tmp, package, line
    agent.terminate()
    agent.wait(timeout=10)
    line.close()


def test_run_on_a_serial_board_prints_statistics_and_the_check(setup):
    tmp, package, line = setup
    done = run_cli("run", package, "--port", line.host_path, "--inputs", tmp / "inputs.npz",
                   "--expected", tmp / "expected.npz", "--repeat", "4", "--outputs", tmp / "out.npz")
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    for field in ("sha256=", "built    sedge", "timing   first=", "p95=", "memory   baseline=", "check    PASS"):
        assert field in done.stdout
    assert "upload" in done.stderr  # the progress bar
    np.testing.assert_allclose(np.load(tmp / "out.npz")["output_0"], EXPECTED, rtol=1e-5, atol=1e-5)

    wrong = run_cli("run", package, "--port", line.host_path, "--inputs", tmp / "inputs.npz",
                    "--expected", tmp / "wrong.npz")
    assert wrong.returncode == 4 and "check    FAIL" in wrong.stdout


def test_bench_several_packages_on_one_board(setup):
    tmp, package, line = setup
    done = run_cli("bench", package, package, "--port", line.host_path, "--inputs", tmp / "inputs.npz",
                   "--expected", tmp / "expected.npz", "--repeat", "3")
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("\n\n")[-1].splitlines()
    assert table[0].split() == ["package", "device", "median", "ms", "p95", "ms", "peak", "RSS", "KB", "check"]
    assert len(table) == 3 and all(row.endswith("PASS") for row in table[1:])
    assert done.stdout.count("upload   bytes=") == 2


def test_bad_device_flags_are_one_line_errors(setup):
    tmp, package, line = setup
    done = run_cli("run", package, "--rpc-key", "k")
    assert done.returncode == 4 and done.stderr == "sedge: error: --rpc-key needs --rpc-tracker host:port\n"
    for options, message in [({"port": "x", "rpc_tracker": "h:1"}, "either --port"),
                             ({"board": "raspberry-pi-4"}, "board 'raspberry-pi-4' is reached by 'rpc'"),
                             ({"board": "nope"}, "unknown board 'nope'"),
                             ({"port": "/dev/sedge-no-such-port"}, "cannot open serial port"),
                             ({"port": line.host_path, "inputs": str(tmp / "inputs.npz"),
                               "expected": str(tmp / "inputs.npz")}, "must hold output_0"),
                             ({"port": line.host_path, "expected": str(tmp / "expected.npz")}, "needs --inputs"),
                             ({}, "^give --port URL")]:
        with pytest.raises(SedgeError, match=message):
            run_remote(package, **options)
