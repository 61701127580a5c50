"""End to end: the real `sedge agent` in a subprocess behind a pty pair, the host on pyserial,
with a byte-level fault injector in between. Every fault must be detected, retried or
resumed, and reported; no run may return a wrong result; a dead board is one clear error."""
import shutil
import time

import numpy as np
import pytest
from board_fixtures import EXPECTED, X, start_agent, tiny_package
from faultline import DOWN, UP, FaultyLine

from sedge.runtime.board_run import run_on_board
from sedge.runtime.protocol import BoardError

HOST = {"timeout": 0.5, "retries": 4, "chunk_bytes": 2048, "repeat": 5, "number": 2}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return tiny_package(tmp_path_factory.mktemp("pkg"))


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    """A FaultyLine with the real agent on its board end; yields (line, workdir)."""
    line = FaultyLine(seed=7)
    workdir = tmp_path_factory.mktemp("agent")
    agent = start_agent(line.board_path, workdir)
    yield line, workdir
    agent.terminate()
    agent.wait(timeout=10)
    line.close()


@pytest.fixture
def line(board):
    """The shared line with no faults set and an empty package store, so each test uploads."""
    line, workdir = board
    line.reconnect()
    line.random_rate, line.stall = 0.0, None
    for sub in ("packages", "partial"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
        (workdir / sub).mkdir()
    line.injected.clear()
    line.board_workdir = workdir
    return line


def check(result):
    assert result.check["status"] == "PASS", result.report()
    np.testing.assert_allclose(result.outputs[0], EXPECTED, rtol=1e-5, atol=1e-5)


def test_upload_run_statistics_and_bundled_check(line, package):
    logs = []
    result = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True,
                          on_log=lambda level, text: logs.append(text), **HOST)
    check(result)
    assert result.stats.count == 5 and result.stats.summary()["min"] > 0 and result.first_run_ms > 0
    memory = result.memory_kb
    assert 0 < memory["baseline"] <= memory["after_load"] <= memory["peak"]
    assert result.upload["resumed_from"] == 0 and result.upload["sent"] == result.upload["bytes"]
    assert result.faults["detected"] == 0 and result.faults["retries"] == 0, str(result.faults)
    assert any("stored package" in text for text in logs) and any("running" in text for text in logs)
    assert "check    PASS" in result.report() and result.board["machine"]

    again = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED + 1.0], **HOST)
    assert again.upload["sent"] == 0  # already on the board: nothing uploaded twice
    assert again.check["status"] == "FAIL" and again.check["outputs"][0]["max_abs_err"] == pytest.approx(1.0)


def test_corrupted_and_dropped_bytes_both_ways(line, package):
    up, down = line.sent[UP], line.sent[DOWN]
    line.corrupt_at[UP] |= {up + 100, up + 9000, up + 20000}  # inside upload chunks
    line.drop_at[UP] |= {up + 5000, up + 15000}
    line.corrupt_at[DOWN] |= {down + 150}  # inside an acknowledgement
    line.drop_at[DOWN] |= {down + 400}
    result = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True, **HOST)
    check(result)
    print(f"\nfaults injected {dict(line.injected)}; host saw {result.faults}; board saw {result.board_faults}")
    assert line.injected == {"corrupt": 4, "drop": 3}
    assert result.board_faults["crc"] >= 3  # the corrupted upload chunks failed their CRC on the board
    # each fault costs the host one retry (a CRC error it saw, or a timeout after the board dropped a frame)
    assert result.faults["retries"] >= 7 and result.faults["detected"] >= 1


def test_random_faults_never_give_a_wrong_result(line, package):
    line.random_rate = 5e-5  # per byte, each of corrupt and drop, both ways: ~3 faults per upload
    result = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True, **HOST)
    check(result)
    print(f"\nrandom faults injected {dict(line.injected)}; host saw {result.faults}; board saw {result.board_faults}")
    assert result.faults["retries"] >= (1 if line.injected else 0)


def test_stalled_line_during_the_run(line, package):
    line.stall = (DOWN, line.sent[DOWN] + 200, 1.5)  # three host timeouts of silence
    result = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True, **HOST)
    check(result)
    print(f"\nstall injected {dict(line.injected)}; host saw {result.faults}; board saw {result.board_faults}")
    assert line.injected["stall"] == 1 and result.faults["timeouts"] >= 1


def test_disconnect_mid_upload_then_resume(line, package):
    size = package.stat().st_size
    line.cut_at = (UP, line.sent[UP] + size // 2)
    progress = []
    with pytest.raises(BoardError, match="no answer .* request 'upload_chunk'"):
        run_on_board(package, line.host_path, progress=lambda done, total: progress.append(done), **HOST)
    assert line.injected["disconnect"] == 1 and 0 < progress[-1] < size
    line.reconnect()
    result = run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True, **HOST)
    check(result)
    print(f"\ndisconnect after {progress[-1]} of {size} bytes; resumed from {result.upload['resumed_from']}")
    assert result.upload["resumed_from"] == progress[-1] and result.upload["sent"] == size - progress[-1]


def test_dead_board_is_one_clear_error(package):
    line = FaultyLine()  # nobody on the board end
    try:
        start = time.monotonic()
        with pytest.raises(BoardError, match="no answer .* to the session start after 3 tries .* is `sedge agent"):
            run_on_board(package, line.host_path, timeout=0.3, retries=2)
        assert time.monotonic() - start < 3 * 0.3 + 1.0
    finally:
        line.close()


def test_package_for_another_architecture_is_refused_and_not_stored(line, package, tmp_path):
    from sedge.runtime.package import open_package, write_package

    original = open_package(package)
    library = tmp_path / "mod.so"
    elf = bytearray(original.library_path.read_bytes())
    elf[18:20] = (183).to_bytes(2, "little")  # claim aarch64 in the ELF header
    library.write_bytes(bytes(elf))
    foreign = write_package(tmp_path / "foreign.tar", library, original.params, original.metadata)
    with pytest.raises(BoardError, match="failed 'upload_end': package built for aarch64, this board is x86_64"):
        run_on_board(foreign, line.host_path, **HOST)
    workdir = line.board_workdir
    assert not list((workdir / "packages").iterdir())


def test_runtime_only_entry_point_gives_one_line_errors(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "sedge.runtime.agent", "--port", "/dev/sedge-no-such-port",
                           "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("sedge agent: error: cannot open serial port '/dev/sedge-no-such-port'")
    assert done.stderr.count("\n") == 1


def test_bad_inputs_are_reported_by_the_board_and_it_keeps_serving(line, package):
    with pytest.raises(BoardError, match=r"failed 'run': unknown input\(s\) \['nope'\]; the package takes \['x'\]"):
        run_on_board(package, line.host_path, inputs={"nope": X}, **HOST)
    check(run_on_board(package, line.host_path, inputs={"x": X}, expected=[EXPECTED], return_outputs=True, **HOST))
