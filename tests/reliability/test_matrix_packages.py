"""The bad-input matrix, part 2: packages and the commands that read them (run, estimate,
bench), and `--inputs` / `--outputs`. Same checks as part 1. Rows in tests/cli/test_errors.py
(an ONNX file given as a package, a missing package, a wrong input shape, --outputs without
.npz) and tests/runtime/test_package.py (in-process refusals) are not repeated."""
import pytest
from reliability_helpers import Case, build_workspace, run_case, tiny_onnx

CASES = [
    Case("package-random-bytes", ["run", "{w}/random.tar"], 4, ("is not a sedge package (not a tar file)",)),
    Case("package-foreign-tar", ["run", "{w}/foreign.tar"], 4, ("unexpected member 'mod.json'", "holds only")),
    Case("package-truncated", ["run", "{w}/truncated.tar"], 4, ("truncated.tar'",)),
    Case("package-version-mismatch", ["run", "{w}/version.tar"], 4, ("format version 99", "reads versions 1, 2")),
    Case("package-missing-member", ["run", "{w}/missing.tar"], 4, ("it must hold metadata.json, params.npz",)),
    Case("package-symlink-member", ["run", "{w}/symlink.tar"], 4, ("member mod.so is a link", "regular files")),
    Case("package-dotdot-member", ["run", "{w}/dotdot.tar"], 4, ("unexpected member '../evil.so'",)),
    Case("package-absolute-member", ["run", "{w}/absolute.tar"], 4, ("unexpected member '/tmp/evil.so'",)),
    Case("package-tampered", ["run", "{w}/tampered.tar"], 4, ("is damaged or was altered", "mod.so has SHA-256")),
    Case("inputs-wrong-name", ["run", "{w}/tiny.tar", "--inputs", "{w}/wrongname.npz"], 4, ("['y']", "['x']")),
    Case("inputs-wrong-dtype", ["run", "{w}/tiny.tar", "--inputs", "{w}/wrongdtype.npz"], 4,
         ("input 'x' is float64[2, 64]", "expects float32[2, 64]")),
    Case("inputs-not-npz", ["run", "{w}/tiny.tar", "--inputs", "{w}/notnpz.npz"], 4, ("is not a .npz archive",)),
    Case("inputs-missing", ["run", "{w}/tiny.tar", "--inputs", "nothere.npz"], 4, ("'nothere.npz' does not exist",)),
    Case("outputs-under-a-file", ["run", "{w}/tiny.tar", "--outputs", "{w}/afile/o.npz"], 4,
         ("cannot write", "is a file, not a directory")),
    Case("run-negative-repeat", ["run", "{w}/tiny.tar", "--print-time", "--repeat", "-1", "--outputs", "o.npz"], 4,
         ("must be >= 1", "-1")),
    Case("run-zero-number", ["run", "{w}/tiny.tar", "--print-time", "--number", "0"], 4, ("must be >= 1",)),
    Case("run-negative-print-top", ["run", "{w}/tiny.tar", "--print-top", "-3"], 4, ("--print-top",)),
    Case("profile-out-suffix", ["run", "{w}/tiny.tar", "--profile-out", "prof.txt"], 4, ("must end in .csv or .json",)),
    Case("run-device-mismatch", ["run", "{w}/tiny.tar", "--device", "cuda"], 4, ("compiled for 'llvm'",)),
    Case("run-no-such-port", ["run", "{w}/tiny.tar", "--port", "/dev/sedge-nope"], 4,
         ("cannot open serial port '/dev/sedge-nope'", "check the cable")),
    Case("estimate-tampered-package", ["estimate", "{w}/tampered.tar"], 4, ("is damaged or was altered",)),
    Case("estimate-bad-baseline", ["estimate", "{w}/tiny.onnx", "--baseline", "{w}/empty.onnx"], 5,
         ("is not a valid ONNX model",)),
    Case("estimate-bad-calibration", ["estimate", "{w}/tiny.onnx", "--calibrate", "{w}/tiny.tar=abc"], 4,
         ("'abc' is not a latency", "allowed: seconds")),
    Case("estimate-csv-missing-dir", ["estimate", "{w}/tiny.onnx", "--csv", "nodir/x.csv"], 4,
         ("cannot write nodir/x.csv", "does not exist")),
    Case("bench-no-link", ["bench", "{w}/tiny.tar"], 4, ("give --port",)),
    Case("bench-missing-package", ["bench", "nothere.tar", "--port", "loop://"], 4, ("'nothere.tar' does not exist",)),
    Case("bench-tampered-package", ["bench", "{w}/tampered.tar", "--port", "loop://"], 4,
         ("is damaged or was altered", "mod.so has SHA-256")),
    Case("bench-no-such-port", ["bench", "{w}/tiny.tar", "--port", "/dev/sedge-nope"], 4,
         ("cannot open serial port",)),
    Case("bench-unknown-board", ["bench", "{w}/tiny.tar", "--board", "nope", "--port", "loop://"], 4,
         ("unknown board 'nope'", "available:")),
]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from sedge.api import compile as sedge_compile
    from sedge.tvm_passes.build import CompileOptions

    workspace = build_workspace(tmp_path_factory.mktemp("bad-packages"))
    sedge_compile(str(tiny_onnx(workspace / "tiny.onnx")), CompileOptions(output=str(workspace / "tiny.tar")))
    return workspace


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_bad_input(case, workspace, tmp_path):
    run_case(case, workspace, tmp_path)
