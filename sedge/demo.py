"""The demo job on a built-in model, dense and compressed, end to end.

DemoNet (a small residual CNN) and its structured-convolution version (every 3x3 conv but
the stem projected onto c = C, n = 2 kernels) are each exported to ONNX, compiled for this
machine, verified against ONNX Runtime and timed against it in the same process; then both
are estimated on a board (DRAM traffic, energy, latency) from their packages' layer records.
The report shows, per structured layer, the lowering sedge chose and what each option was
estimated to cost (tvm_passes/lowering.py), and latency.png sets the measured times of both
variants beside the board estimate. Everything lands in one report directory.
"""
from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sedge.files import atomic_write, atomic_write_bytes

VARIANTS = ("dense", "structured")


@dataclass
class VariantResult:
    name: str
    params: int
    macs: int
    adds: int
    compile_seconds: float
    verification: str
    verified: bool
    sedge_ms: float
    onnxruntime_ms: float


@dataclass
class DemoReport:
    model: str
    target: dict
    threads: int
    variants: list[VariantResult]
    board: str
    estimate_summary: list[str]
    lowerings: list[dict]  # per structured layer: name, output shape, choice, reason, options
    estimated_ms: dict  # variant -> the board estimate's latency

    @property
    def verified(self) -> bool:
        return all(v.verified for v in self.variants)

    def markdown(self) -> str:
        rows = "\n".join(
            f"| {v.name} | {v.params:,} | {v.macs / 1e6:.1f} M | {v.adds / 1e6:.2f} M | {v.compile_seconds:.1f} s | "
            f"{v.sedge_ms:.3f} | {v.onnxruntime_ms:.3f} | {v.sedge_ms / v.onnxruntime_ms:.2f}x | "
            f"{'PASS' if v.verified else 'FAIL'} |" for v in self.variants)
        checks = "\n".join(f"- {v.name}: {v.verification}" for v in self.variants)
        estimate = "\n".join(f"    {line}" for line in self.estimate_summary)
        lowered = "\n".join(
            f"| {row['layer']} | {'x'.join(map(str, row['output_shape']))} | **{row['choice']}** | "
            + " | ".join(f"{o['name']} {o['est_us']:.1f}" for o in row["options"]) + " |" for row in self.lowerings)
        times = {v.name: v.sedge_ms for v in self.variants}
        ratio = times["structured"] / times["dense"]
        return (f"# sedge demo\n\nModel: {self.model}\nTarget: `{json.dumps(self.target)}`\n\n"
                "| variant | params | MACs | adds | compile | sedge (ms) | ONNX Runtime (ms) | sedge / ORT | verify |\n"
                f"|---|---|---|---|---|---|---|---|---|\n{rows}\n\n{checks}\n\n"
                f"Latencies are medians measured in one process with {self.threads} threads, sedge and ONNX "
                f"Runtime alternating in blocks of 5 runs on the same inputs.\n\n"
                f"Structured / dense, measured here: {ratio:.2f}x (latency.png: both beside the board estimate).\n\n"
                "## How each structured layer was lowered\n\n"
                "The option sedge chose, and each option's estimated time on this target (us):\n\n"
                "| layer | output | chosen | options |\n|---|---|---|---|\n"
                f"{lowered}\n\n"
                f"## Estimated on board {self.board} (structured vs dense)\n\n{estimate}\n")


def _onnxruntime_session(path, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _interleaved_medians(calls: dict, repeat: int, block: int = 5) -> dict:
    """Median ms per engine, timing the engines in alternating blocks of `block` runs.

    Alternating spreads machine noise over every engine; the pause between blocks lets one
    engine's spinning worker threads go idle before the next engine runs.
    """
    samples = {name: [] for name in calls}
    for call in calls.values():
        call()  # warm-up
    while min(len(s) for s in samples.values()) < repeat:
        for name, call in calls.items():
            for _ in range(block):
                start = time.perf_counter()
                call()
                samples[name].append((time.perf_counter() - start) * 1e3)
            time.sleep(0.3)  # measured: TVM's and ORT's pools spin for a while after a call
    return {name: float(np.median(s[:repeat])) for name, s in samples.items()}


def _variant(name, torch_model, out: Path, repeat, target, threads):
    import torch

    import sedge
    from sedge.frontend.demo_model import INPUT_SHAPE
    from sedge.frontend.export import export_onnx
    from sedge.frontend.model import make_inputs
    from sedge.runtime.executor import Executor

    onnx_path = export_onnx(torch_model, torch.rand(INPUT_SHAPE), str(out / f"demonet-{name}.onnx"))
    package = sedge.compile(sedge.load(onnx_path), sedge.CompileOptions(target=target,
                                                                        output=str(out / f"demonet-{name}.tar")))
    executor, session = Executor(package), _onnxruntime_session(onnx_path, threads)  # loaded once
    inputs = make_inputs(package.metadata.inputs)
    verification = sedge.verify(package, inputs, executor.run(inputs))
    medians = _interleaved_medians({"sedge": lambda: executor.run(inputs),
                                    "onnxruntime": lambda: session.run(None, inputs)}, repeat)
    meta = package.metadata
    return package, VariantResult(
        name=name, params=int(sum(p.numel() for p in torch_model.parameters())),
        macs=sum(r.macs for r in meta.layers), adds=sum(r.adds for r in meta.layers),
        compile_seconds=meta.build["seconds"], verification=verification.line(), verified=verification.passed,
        sedge_ms=medians["sedge"], onnxruntime_ms=medians["onnxruntime"])


def run_demo(output_dir: str, repeat: int = 30, target: str | None = None, board: str = "raspberry-pi-4"):
    from sedge.boards import load_board
    from sedge.frontend.compress import compress
    from sedge.frontend.demo_model import INPUT_SHAPE, demo_model
    from sedge.hw_models import estimate, format_report

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    board_spec = load_board(board)  # fail on a bad board before any work
    dense = demo_model()
    structured = copy.deepcopy(dense)
    compress(structured, "structured", {"n": 2, "c_ratio": 1.0})
    threads = os.cpu_count() or 1
    packages, variants = {}, []
    for name, model in (("dense", dense), ("structured", structured.eval())):
        packages[name], result = _variant(name, model, out, repeat, target, threads)
        variants.append(result)
    est = estimate(packages["structured"].metadata.layers, board_spec, baseline=packages["dense"].metadata.layers,
                   model="DemoNet structured", baseline_model="DemoNet dense")
    text = format_report(est)
    summary = text.split("\n\n")[0].splitlines()
    atomic_write(out / "estimate.txt", lambda tmp: Path(tmp).write_text(text))
    atomic_write(out / "estimate.json", lambda tmp: Path(tmp).write_text(est.to_json()))
    estimated_ms = {"dense": est.baseline.totals()["latency_s"] * 1e3, "structured": est.totals()["latency_s"] * 1e3}
    lowerings = [{"layer": r.name, "output_shape": r.output_shape, "choice": r.attrs["lowering"],
                  "reason": r.attrs["lowering_reason"], "options": r.attrs["lowering_options"]}
                 for r in packages["structured"].metadata.layers if "lowering" in r.attrs]
    report = DemoReport(model=f"DemoNet (residual CNN, {'x'.join(map(str, INPUT_SHAPE))})",
                        target=packages["dense"].metadata.target, threads=threads, variants=variants,
                        board=board, estimate_summary=summary, lowerings=lowerings, estimated_ms=estimated_ms)
    atomic_write_bytes(out / "latency.png", _latency_plot(report))
    atomic_write(out / "report.md", lambda tmp: Path(tmp).write_text(report.markdown()))
    atomic_write(out / "report.json", lambda tmp: Path(tmp).write_text(
        json.dumps({**asdict(report), "verified": report.verified}, indent=1)))
    return report


def _latency_plot(report: DemoReport) -> bytes:
    """PNG: dense against structured, as measured here (sedge, ONNX Runtime) and as estimated
    on the board."""
    from sedge.hw_models.plots import figure_png, plt  # Agg: files only

    names = [v.name for v in report.variants]
    figure, (measured, estimated) = plt.subplots(1, 2, figsize=(9, 3.6))
    width = 0.38
    for offset, (label, values) in enumerate((("sedge", [v.sedge_ms for v in report.variants]),
                                               ("ONNX Runtime", [v.onnxruntime_ms for v in report.variants]))):
        measured.bar([i + (offset - 0.5) * width for i in range(len(names))], values, width, label=label)
    measured.set_xticks(range(len(names)), names)
    measured.set_ylabel("latency (ms)")
    measured.set_title(f"measured here, {report.threads} threads")
    measured.legend()
    estimated.bar(names, [report.estimated_ms[n] for n in names], color="gray")
    estimated.set_title(f"estimated on {report.board}")
    estimated.set_ylabel("latency (ms)")
    figure.suptitle("DemoNet: dense vs structured")
    return figure_png(figure)
