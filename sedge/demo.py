"""The demo job: built-in model -> ONNX -> sedge package -> verify -> time vs ONNX Runtime -> report."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from sedge.runtime.package import atomic_write


@dataclass
class DemoReport:
    model: str
    target: dict
    compile_seconds: float
    verification: str
    verified: bool
    latency_ms: dict  # engine -> median ms
    layers: int
    macs: int
    params: int
    threads: int
    extra: dict = field(default_factory=dict)

    def markdown(self) -> str:
        ort = self.latency_ms["onnxruntime"]
        rows = "\n".join(f"| {engine} | {ms:.3f} | {ms / ort:.2f}x |" for engine, ms in self.latency_ms.items())
        return (f"# sedge demo\n\nModel: {self.model} ({self.params:,} parameters, {self.macs / 1e6:.1f} M MACs, "
                f"{self.layers} layers)\nTarget: `{json.dumps(self.target)}`\n"
                f"Compile time: {self.compile_seconds:.1f} s\n\n{self.verification}\n\n"
                f"| engine | median latency (ms) | ratio to ONNX Runtime |\n|---|---|---|\n{rows}\n\n"
                f"Measured in one process, {self.threads} threads, medians over the same number of runs.\n")


def _time_onnxruntime(path, inputs, repeat, threads) -> float:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    session.run(None, inputs)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, inputs)
        samples.append((time.perf_counter() - start) * 1e3)
    return float(np.median(samples))


def run_demo(output_dir: str, repeat: int = 30, target: str | None = None) -> DemoReport:
    import sedge
    from sedge.frontend.demo_model import demo_model, export_onnx

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch_model = demo_model()
    onnx_path = out / "demonet.onnx"
    atomic_write(onnx_path, lambda tmp: export_onnx(torch_model, tmp))
    model = sedge.load(str(onnx_path))
    package = sedge.compile(model, sedge.CompileOptions(target=target, output=str(out / "demonet.tar")))
    result = sedge.run(package, sedge.RunOptions(repeat=repeat, number=1, verify=True))
    threads = os.cpu_count() or 1
    ort_ms = _time_onnxruntime(onnx_path, result.inputs, repeat, threads)
    meta = package.metadata
    report = DemoReport(
        model="DemoNet (residual CNN, 1x3x64x64)", target=meta.target, compile_seconds=meta.build["seconds"],
        verification=result.verification.line(), verified=result.verification.passed,
        latency_ms={"sedge": result.timing.summary()["median"], "onnxruntime": ort_ms},
        layers=len(meta.layers), macs=sum(r.macs for r in meta.layers),
        params=int(sum(np.prod(p.shape) for p in meta.params)), threads=threads)
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text(report.markdown()))
    atomic_write(out / "report.json", lambda tmp: Path(tmp).write_text(json.dumps(asdict(report), indent=1)))
    return report
