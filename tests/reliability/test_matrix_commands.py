"""The bad-input matrix, part 3: board files, the zoo, compress, the agent, and the machine
saying no (an unwritable directory, a full disk, a compile interrupted by SIGINT / SIGTERM).
Board-file refusals in-process are in tests/boards/test_bad_boards.py; these rows are the
same mistakes as a user meets them on the command line."""
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import (
    Case,
    assert_nothing_written,
    assert_one_line_error,
    build_workspace,
    run_case,
    slow_onnx,
)

SEDGE = str(Path(sys.executable).parent / "sedge")

CASES = [
    Case("board-not-toml", ["boards", "show", "{w}/bad.toml"], 4, ("cannot be read as TOML",)),
    Case("board-negative", ["boards", "show", "{w}/negative.toml"], 4,
         ("field compute.clock_hz is -5", "allowed: a number > 0")),
    Case("board-wrong-type", ["boards", "show", "{w}/badtype.toml"], 4,
         ("field compute.units is 'four'", "allowed: a value of type integer")),
    Case("board-infinite", ["boards", "show", "{w}/infinite.toml"], 4,
         ("field memory.dram.bandwidth_gbps is inf", "allowed: a finite number")),
    Case("board-unknown", ["boards", "show", "nope"], 4, ("unknown board 'nope'", "available:")),
    Case("estimate-malformed-board", ["estimate", "{w}/tiny.onnx", "--board", "{w}/negative.toml"], 4,
         ("field compute.clock_hz is -5",)),
    Case("zoo-info-unknown", ["zoo", "info", "nope"], 4, ("unknown zoo model 'nope'", "names are")),
    Case("zoo-unknown-variant", ["zoo", "info", "resnet18-struct-z"], 4, ("unknown variant 'struct-z'",)),
    Case("zoo-setting-too-large", ["zoo", "info", "wrn-40-2-rf-7"], 4, ("bad setting s = 7.0", "0 < s <= 1")),
    Case("zoo-setting-zero", ["zoo", "info", "wrn-40-2-hashed-0"], 4, ("bad setting ratio = 0.0", "0 < ratio <= 1")),
    Case("zoo-export-unknown", ["zoo", "export", "nope", "-o", "m.onnx"], 4, ("unknown zoo model 'nope'",)),
    Case("zoo-export-suffix", ["zoo", "export", "resnet56", "-o", "m.txt"], 4, ("allowed suffixes: .onnx, .pt2",)),
    Case("zoo-export-under-a-file", ["zoo", "export", "resnet56", "-o", "{w}/afile/m.onnx"], 4,
         ("cannot write", "is a file, not a directory")),
    Case("compress-unknown-model", ["compress", "nope", "--method", "rf", "-o", "c.onnx"], 4,
         ("unknown zoo model 'nope'",)),
    Case("compress-rank-zero", ["compress", "resnet56", "--method", "rf", "--s", "0", "-o", "c.onnx"], 4,
         ("bad setting s = 0.0", "allowed: 0 < s <= 1")),
    Case("compress-rank-too-large", ["compress", "resnet56", "--method", "tt", "--s", "1.5", "-o", "c.onnx"], 4,
         ("bad setting s = 1.5",)),
    Case("compress-kernel-zero", ["compress", "resnet56", "--method", "structured", "--n", "0", "-o", "c.onnx"], 4,
         ("bad setting n = 0", "n >= 1")),
    Case("compress-ratio-too-large", ["compress", "resnet56", "--method", "structured", "--c-ratio", "2",
                                      "-o", "c.onnx"], 4, ("bad setting c_ratio = 2.0",)),
    Case("compress-suffix", ["compress", "resnet56", "--method", "rf", "-o", "c.txt"], 4,
         ("allowed suffixes: .onnx, .pt2, .pt",)),
    Case("agent-no-such-port", ["agent", "--port", "/dev/sedge-nope", "--workdir", "agent"], 4,
         ("cannot open serial port '/dev/sedge-nope'",)),
    Case("agent-bad-baudrate", ["agent", "--port", "loop://", "--baudrate", "-1", "--workdir", "agent"], 4,
         ("--baudrate -1 is not a baud rate", "allowed: a positive integer")),
    Case("agent-bad-keepalive", ["agent", "--port", "loop://", "--keepalive", "0", "--workdir", "agent"], 4,
         ("--keepalive 0 is out of range", "allowed: seconds in (0, 60]")),
    Case("agent-workdir-under-a-file", ["agent", "--port", "loop://", "--workdir", "{w}/afile/agent"], 4,
         ("is not a directory",)),
    Case("compile-output-under-a-file", ["compile", "{w}/tiny.onnx", "-o", "{w}/afile/m.tar"], 4,
         ("cannot write", "is a file, not a directory")),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return build_workspace(tmp_path_factory.mktemp("bad-commands"))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case, workspace, tmp_path):
    run_case(case, workspace, tmp_path)


def test_unwritable_output_directory(workspace, tmp_path):
    if os.geteuid() == 0:  # root writes through mode bits: a read-only filesystem instead
        target = Path("/sys/sedge-m.tar") if os.access("/sys", os.F_OK) else pytest.skip("no read-only place")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "m.tar"
    result = subprocess.run([SEDGE, "compile", str(workspace / "tiny.onnx"), "-o", str(target)], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300)
    assert_one_line_error(result, 4, f"cannot write '{target}'", "choose an output path in a writable directory")
    assert not target.exists()


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_full_disk_simulated(workspace, tmp_path):
    """RLIMIT_FSIZE makes every write past 200 kB fail, as a full disk does: the package
    (1 MB of weights) cannot be written; one line, and no partial file."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 512])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 512])],
                              [numpy_helper.from_array(weights, "w")])
    model = workspace / "big.onnx"
    if not model.exists():
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), model)
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run([SEDGE, "compile", str(model), "-o", "m.tar"], capture_output=True, text=True, cwd=out,
                            timeout=300, preexec_fn=_limit_file_size)
    assert_one_line_error(result, 4, "cannot write 'm.tar': File too large", "write elsewhere")
    assert_nothing_written(out)


@pytest.fixture(scope="module")
def slow_model(workspace):
    return slow_onnx(workspace / "slow.onnx", layers=200)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_compile_leaves_nothing(slow_model, tmp_path, signum):
    """The signal arrives while TVM compiles (after the IR printed before LegalizeOps): no
    package, no partial file, no sedge temporary directory; SIGINT ends with one line."""
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    out.mkdir()
    scratch.mkdir()
    env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(scratch))
    process = subprocess.Popen([SEDGE, "compile", str(slow_model), "-o", "m.tar", "--print-ir-before", "LegalizeOps"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=out, env=env)
    try:
        deadline = time.monotonic() + 240
        for line in process.stdout:
            if line.startswith("# IR before LegalizeOps"):
                break
            assert time.monotonic() < deadline
        time.sleep(0.2)
        process.send_signal(signum)
        process.stdout.read()
        stderr = process.stderr.read()
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in stderr, stderr
    if signum == signal.SIGINT:
        lines = [line for line in stderr.splitlines() if line.strip() and "Warning" not in line]
        assert code == 130 and lines == ["sedge: interrupted"], (code, stderr)
    else:
        assert code in (-signal.SIGTERM, 143), (code, stderr)
    assert_nothing_written(out)
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("sedge-")]
