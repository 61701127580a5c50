"""The estimate for people: a Vela-style summary and per-layer table, and the same table as CSV.

One column spec serves the console and the CSV file, so the two never disagree.
"""
from __future__ import annotations

import csv
import io

from sedge.files import atomic_write_bytes
from sedge.hw_models.result import Estimate

# (header, value of a LayerEstimate, console format)
COLUMNS = [
    ("layer", lambda l: l.name, "{}"),
    ("op", lambda l: l.op, "{}"),
    ("mode", lambda l: l.mode, "{}"),
    ("macs", lambda l: l.macs, "{:.0f}"),
    ("adds", lambda l: l.adds, "{:.0f}"),
    ("dram_weight_bytes", lambda l: l.dram_bytes["weights"], "{:.0f}"),
    ("dram_input_bytes", lambda l: l.dram_bytes["inputs"], "{:.0f}"),
    ("dram_output_bytes", lambda l: l.dram_bytes["outputs"], "{:.0f}"),
    ("energy_uj", lambda l: l.total_energy_pj / 1e6, "{:.3f}"),
    ("cycles", lambda l: l.total_cycles, "{:.0f}"),
    ("bound", lambda l: l.bound, "{}"),
    ("loop_order", lambda l: l.order, "{}"),
]


def format_report(estimate: Estimate) -> str:
    return "\n".join(_summary(estimate) + [""] + _table(estimate))


def _mb(n: float) -> str:
    return f"{n / 1e6:.3f} MB"


def _summary(est: Estimate) -> list[str]:
    t = est.totals()
    lines = [f"Estimate: {est.model or 'model'} on board {est.board}, {est.precision}, "
             f"clock {est.clock_hz / 1e6:.0f} MHz",
             f"  Parameters stored in DRAM      {_mb(t['parameter_bytes'])}",
             f"  DRAM traffic per inference     {_mb(t['dram_bytes_total'])} "
             f"(weights {_mb(t['dram_bytes']['weights'])}, "
             f"inputs {_mb(t['dram_bytes']['inputs'])}, outputs {_mb(t['dram_bytes']['outputs'])})"]
    for memory, moved in t["accesses"].items():
        lines.append(f"  {memory:<8} accesses           reads {_mb(moved['reads'])}, writes {_mb(moved['writes'])}")
    lines.append(f"  MACs / other adds              {t['macs']:.4g} / {t['adds']:.4g}")
    parts = ", ".join(f"{name} {pj / 1e6:.2f}" for name, pj in t["energy_pj"].items())
    lines.append(f"  Energy per inference           {t['energy_pj_total'] / 1e6:.2f} uJ ({parts})")
    bound = sum(1 for layer in est.layers if layer.bound == "compute")
    lines.append(f"  Cycles / latency               {t['cycles']:.4g} / {t['latency_s'] * 1e3:.4g} ms "
                 f"({bound} of {len(est.layers)} layers compute-bound)")
    savings = est.savings()
    if savings:
        base = est.baseline.totals()
        lines.append(f"Against baseline {est.baseline.model or 'baseline'} on the same board:")
        for key, label, fmt in (("parameter_bytes", "parameters in DRAM", _mb),
                                ("dram_bytes_total", "DRAM traffic", _mb),
                                ("energy_pj_total", "energy", lambda pj: f"{pj / 1e6:.2f} uJ"),
                                ("latency_s", "latency", lambda s: f"{s * 1e3:.4g} ms")):
            ratio = ("n/a" if not savings[key] else f"{savings[key]:.2f}x less" if savings[key] >= 1
                     else f"{1 / savings[key]:.2f}x more")
            lines.append(f"  {label:<28} {fmt(base[key])} -> {fmt(t[key])} ({ratio})")
    return lines


def _table(est: Estimate) -> list[str]:
    rows = [[fmt.format(value(layer)) for _, value, fmt in COLUMNS] for layer in est.layers]
    headers = [name for name, _, _ in COLUMNS]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    return ["  ".join(cell.rjust(w) if i >= 3 and i < 10 else cell.ljust(w)
                      for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in [headers] + rows]


def write_csv(estimate: Estimate, path: str) -> None:
    """The per-layer table, written atomically: a failed run leaves no partial file."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([name for name, _, _ in COLUMNS])
    for layer in estimate.layers:
        writer.writerow([value(layer) for _, value, _ in COLUMNS])
    atomic_write_bytes(path, text.getvalue().encode())


