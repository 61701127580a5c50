"""TVM RPC: a real tracker and two servers on 127.0.0.1, packages benchmarked through them.

Each launcher runs its service in a child process, so every process is started in its own
session and stopped by process group: no port stays bound after the test.
"""
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from board_fixtures import EXPECTED, X, tiny_package

from sedge.errors import SedgeError
from sedge.runtime.rpc import bench_over_rpc, run_over_rpc, servers_for_key

KEY = "sedge-test"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return tiny_package(tmp_path_factory.mktemp("pkg"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracker():
    port = _free_port()
    address = f"127.0.0.1:{port}"
    commands = [["tvm.exec.rpc_tracker", "--host", "127.0.0.1", "--port", str(port), "--port-end", str(port + 1)]]
    for _ in range(2):
        server_port = _free_port()
        commands.append(["tvm.exec.rpc_server", "--host", "127.0.0.1", "--port", str(server_port),
                         "--port-end", str(server_port + 1), "--tracker", address, "--key", KEY])
    processes = []
    try:
        for command in commands:
            processes.append(subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True))
            time.sleep(0.5 if len(processes) == 1 else 0)
        deadline = time.monotonic() + 60
        while True:
            try:
                if servers_for_key(address, KEY) == 2:
                    break
            except SedgeError:
                pass
            assert all(p.poll() is None for p in processes), "an RPC launcher exited: is apache-tvm[rpc] installed?"
            assert time.monotonic() < deadline, "the RPC tracker and servers did not come up"
            time.sleep(0.3)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)  # the launcher and the service child it started
        for process in processes:
            process.wait(timeout=10)


def test_run_through_the_tracker(tracker, package):
    result = run_over_rpc(package, tracker, KEY, inputs={"x": X}, expected=[EXPECTED], repeat=3, number=2,
                          return_outputs=True)
    assert result.check["status"] == "PASS", result.report()
    np.testing.assert_allclose(result.outputs[0], EXPECTED, rtol=1e-5, atol=1e-5)
    assert result.stats.count == 3 and result.stats.summary()["min"] > 0
    assert f"rpc key '{KEY}'" in result.report()


def test_bench_spreads_packages_over_both_servers(tracker, package):
    results = bench_over_rpc([package] * 4, tracker, KEY, inputs={"x": X}, expected=[EXPECTED], repeat=2)
    assert [r.check["status"] for r in results] == ["PASS"] * 4


def test_sedge_bench_command_over_rpc(tracker, package, tmp_path):
    from conftest import run_cli

    np.savez(tmp_path / "inputs.npz", x=X)
    np.savez(tmp_path / "expected.npz", output_0=EXPECTED)
    done = run_cli("bench", package, package, "--rpc-tracker", tracker, "--rpc-key", KEY, "--repeat", "2",
                   "--inputs", tmp_path / "inputs.npz", "--expected", tmp_path / "expected.npz")
    assert done.returncode == 0, done.stderr
    rows = done.stdout.split("\n\n")[-1].splitlines()[1:]
    assert len(rows) == 2 and all(f"rpc key '{KEY}'" in row and row.endswith("PASS") for row in rows)


def test_unknown_key_and_dead_tracker_are_clear_errors(tracker, package):
    with pytest.raises(SedgeError, match=f"no RPC server registered under key 'nope'.*keys there: {KEY}"):
        run_over_rpc(package, tracker, "nope")
    with pytest.raises(SedgeError, match="cannot reach the RPC tracker at 127.0.0.1:1"):
        servers_for_key("127.0.0.1:1", KEY)
    with pytest.raises(SedgeError, match="bad --rpc-tracker 'localhost'"):
        servers_for_key("localhost", KEY)
