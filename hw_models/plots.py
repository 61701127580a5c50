"""PNG charts of an estimate: per-layer DRAM bytes (against the baseline when there is one)
and the energy breakdown by memory level and operation."""
from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")  # files only: no display on boards and CI
import matplotlib.pyplot as plt  # noqa: E402

from sedge.files import atomic_write_bytes  # noqa: E402
from sedge.hw_models.result import Estimate  # noqa: E402


def write_plots(estimate: Estimate, directory: str) -> list[str]:
    os.makedirs(directory, exist_ok=True)
    written = []
    for name, draw in (("dram_per_layer.png", _dram_per_layer), ("energy_breakdown.png", _energy_breakdown)):
        path = os.path.join(directory, name)
        atomic_write_bytes(path, figure_png(draw(estimate)))
        written.append(path)
    return written


def figure_png(figure) -> bytes:
    """`figure` as PNG bytes (closed afterwards: pyplot keeps every open figure)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def _dram_per_layer(est: Estimate):
    figure, axis = plt.subplots(figsize=(min(16, max(6, len(est.layers) * 0.15)), 4))
    if est.baseline is not None:
        axis.bar(range(len(est.baseline.layers)), [l.total_dram_bytes / 1e6 for l in est.baseline.layers],
                 color="lightgray", label=f"baseline {est.baseline.model}")
    axis.bar(range(len(est.layers)), [l.total_dram_bytes / 1e6 for l in est.layers], width=0.5,
             label=est.model or "model")
    axis.set_xlabel("layer (execution order)")
    axis.set_ylabel("DRAM traffic per inference (MB)")
    axis.set_title(f"DRAM traffic per layer on {est.board} ({est.precision})")
    axis.legend()
    return figure


def _energy_breakdown(est: Estimate):
    runs = [est] if est.baseline is None else [est.baseline, est]
    figure, axis = plt.subplots(figsize=(6, 4))
    keys = list(est.totals()["energy_pj"])
    bottoms = [0.0] * len(runs)
    labels = [f"{role}\n{run.model}" for role, run in zip(["baseline", "model"][-len(runs):], runs)]
    for key in keys:
        values = [run.totals()["energy_pj"].get(key, 0.0) / 1e6 for run in runs]
        axis.bar(labels, values, bottom=bottoms, label=key)
        bottoms = [b + v for b, v in zip(bottoms, values)]
    axis.set_ylabel("energy per inference (uJ)")
    axis.set_title(f"Energy by memory level and operation on {est.board}")
    axis.legend(loc="upper left", bbox_to_anchor=(1, 1))
    return figure
