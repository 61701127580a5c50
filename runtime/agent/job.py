"""One benchmark of one package, run in a fresh child process of the agent.

A child per run means a model that crashes cannot take the agent down, and its peak RSS
(getrusage) is that run's own: the interpreter and runtime baseline, plus what loading and
running the package added. Timing follows TFLite's benchmark_model: the first inference is
timed alone (cold), then the executor's `warmup` untimed runs and `repeat` samples each
averaging `number` runs.
"""
from __future__ import annotations

import io
import resource
import time
from pathlib import Path

import numpy as np

from sedge.errors import SedgeError
from sedge.runtime.agent.validate import check_runs_here

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def pack_arrays(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def unpack_arrays(blob: bytes) -> dict[str, np.ndarray]:
    if not blob:
        return {}
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def make_inputs(metadata, given: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """The host's inputs, or seeded random ones shaped by the metadata (timing does not care)."""
    rng = np.random.default_rng(seed)
    inputs = {}
    for spec in metadata.inputs:
        if spec.name in given:
            inputs[spec.name] = given[spec.name]
        elif np.issubdtype(np.dtype(spec.dtype), np.floating):
            inputs[spec.name] = rng.standard_normal(spec.shape).astype(spec.dtype)
        else:
            inputs[spec.name] = rng.integers(0, 8, size=spec.shape).astype(spec.dtype)
    unknown = set(given) - set(inputs)
    if unknown:
        raise SedgeError(f"unknown input(s) {sorted(unknown)}; the package takes {[s.name for s in metadata.inputs]}")
    return inputs


def compare(outputs: list[np.ndarray], expected: list[np.ndarray], rtol: float, atol: float) -> dict:
    """Max abs / rel error per output and PASS/FAIL under |out - exp| <= atol + rtol * |exp|."""
    if len(outputs) != len(expected):
        return {"status": "FAIL", "reason": f"{len(outputs)} outputs, {len(expected)} expected", "outputs": []}
    rows = []
    for i, (out, exp) in enumerate(zip(outputs, expected)):
        if out.shape != exp.shape:
            rows.append({"index": i, "status": "FAIL", "reason": f"shape {list(out.shape)} != {list(exp.shape)}"})
            continue
        diff = np.abs(out.astype(np.float64) - exp.astype(np.float64))
        rel = diff / np.maximum(np.abs(exp.astype(np.float64)), np.finfo(np.float64).tiny)
        ok = bool(np.all(diff <= atol + rtol * np.abs(exp)))
        rows.append({"index": i, "status": "PASS" if ok else "FAIL", "max_abs_err": float(diff.max(initial=0.0)),
                     "max_rel_err": float(rel.max(initial=0.0))})
    status = "PASS" if all(r["status"] == "PASS" for r in rows) else "FAIL"
    return {"status": status, "rtol": rtol, "atol": atol, "outputs": rows}


def run_job(package_path: str, request: dict, arrays_blob: bytes) -> tuple[dict, bytes]:
    """Load, check and time the package; return the result fields and the outputs (npz) if asked."""
    from sedge.runtime.executor import Executor
    from sedge.runtime.package import open_package

    baseline_kb = _peak_rss_kb()
    start = time.perf_counter()
    package = open_package(Path(package_path))
    check_runs_here(package.metadata.target, package.library_path)
    executor = Executor(package, device=request.get("device", "cpu"))
    load_s = time.perf_counter() - start
    loaded_kb = _peak_rss_kb()

    arrays = unpack_arrays(arrays_blob)
    given = {k.split(":", 1)[1]: v for k, v in arrays.items() if k.startswith("input:")}
    expected = [arrays[f"expected:{i}"] for i in range(sum(k.startswith("expected:") for k in arrays))]
    inputs = make_inputs(package.metadata, given, int(request.get("seed", 0)))

    start = time.perf_counter()
    outputs = executor.run(inputs)
    first_run_ms = (time.perf_counter() - start) * 1e3
    stats = executor.time(inputs, number=int(request.get("number", 1)), repeat=int(request.get("repeat", 10)),
                          warmup=int(request.get("warmup", 1)))
    result = {
        "samples_ms": list(stats.samples_ms),
        "first_run_ms": first_run_ms,
        "load_s": load_s,
        "memory_kb": {"baseline": baseline_kb, "after_load": loaded_kb, "peak": _peak_rss_kb()},
        "package": {"sha256": package.sha256, "target": package.metadata.target,
                    "sedge_version": package.metadata.sedge_version, "tvm_version": package.metadata.tvm_version},
    }
    if expected:
        result["check"] = compare(outputs, expected, float(request.get("rtol", DEFAULT_RTOL)),
                                  float(request.get("atol", DEFAULT_ATOL)))
    blob = pack_arrays({f"output:{i}": o for i, o in enumerate(outputs)}) if request.get("return_outputs") else b""
    return result, blob
