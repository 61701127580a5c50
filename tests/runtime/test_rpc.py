"""TVM RPC: a real tracker and two servers on 127.0.0.1 (conftest's `tracker`), packages
benchmarked through them."""
import numpy as np
import pytest
from board_fixtures import EXPECTED, X, tiny_package
from conftest import RPC_KEY as KEY

from sedge.errors import SedgeError
from sedge.runtime.rpc import bench_over_rpc, run_over_rpc, servers_for_key


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return tiny_package(tmp_path_factory.mktemp("pkg"))


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
