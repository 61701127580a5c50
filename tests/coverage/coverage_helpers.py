"""What every coverage test does: an ONNX file through sedge (load, compile, run) against a
reference (ONNX Runtime on the same file, or the outputs a test case ships with).

Tolerance: max |sedge - reference| / max |reference| <= RTOL per output, the bar of
`sedge run --verify`. Packages go to the test's tmp_path (xdist-safe)."""
import numpy as np

import sedge

RTOL = 1e-4


def rel_err(got, want) -> float:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if want.size == 0:
        return 0.0
    finite = np.isfinite(want)
    assert (np.isfinite(got) == finite).all(), "sedge and the reference disagree on which outputs are finite"
    scale = max(float(np.max(np.abs(want[finite]))) if finite.any() else 0.0, 1e-30)
    return float(np.max(np.abs(got[finite] - want[finite]), initial=0.0)) / scale


def onnxruntime_outputs(path, inputs: dict) -> list:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # no warning per initializer listed as an input
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]).run(None, inputs)


def compile_model(path, tmp_path, input_shapes=None):
    """(sedge Model, opened package) for the ONNX file at `path`."""
    model = sedge.load(str(path), input_shapes=input_shapes)
    output = tmp_path / f"package{len(list(tmp_path.glob('package*.tar')))}.tar"
    package = sedge.compile(model, sedge.CompileOptions(output=str(output)))
    return model, package


def check_onnx(path, tmp_path, inputs: dict | None = None, expected: list | None = None, input_shapes=None,
               rtol: float = RTOL) -> float:
    """Compile `path`, run it on `inputs` (random by default) and compare every output with
    `expected` (by default ONNX Runtime's on the same file); returns the largest error."""
    model, package = compile_model(path, tmp_path, input_shapes)
    if inputs is None:
        inputs = model.example_inputs(seed=1)
    got = sedge.run(package, sedge.RunOptions(inputs=inputs)).outputs
    if expected is None:
        expected = onnxruntime_outputs(path, inputs)
    assert len(got) == len(expected)
    worst = 0.0
    for g, w in zip(got, expected):
        assert tuple(g.shape) == tuple(np.shape(w)), (g.shape, np.shape(w))
        worst = max(worst, rel_err(g, w))
    assert worst <= rtol, f"max rel error {worst:.3e} > {rtol:g}"
    return worst
