"""What a run on a device returns, whichever way it got there (serial agent or TVM RPC)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from sedge.runtime.stats import TimingStats


@dataclass
class DeviceResult:
    package: str
    sha256: str
    target: dict
    device: str  # how and where it ran, e.g. "serial /dev/ttyUSB0" or "rpc rasp4 via 10.0.0.2:9190"
    board: dict  # what the device says it is (machine, versions)
    versions: dict  # sedge / TVM versions the package was built with
    stats: TimingStats
    first_run_ms: float | None = None  # the cold first inference, before warm-up
    load_s: float | None = None
    memory_kb: dict | None = None
    check: dict | None = None
    outputs: list[np.ndarray] | None = None
    faults: dict = field(default_factory=dict)  # what the host's side of the link met
    board_faults: dict = field(default_factory=dict)  # what the board's side met, up to the run
    upload: dict = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"package  {self.package} sha256={self.sha256[:16]} target={json.dumps(self.target, sort_keys=True)}",
                 f"built    sedge {self.versions.get('sedge_version')} / TVM {self.versions.get('tvm_version')}",
                 f"device   {self.device}: " + ", ".join(f"{k}={v}" for k, v in self.board.items()),
                 "timing   " + " ".join(f"{k}={v:.4f}" for k, v in self.stats.summary().items() if k != "count")
                 + f" ms over {self.stats.count} samples"]
        if self.first_run_ms is not None:
            lines.append(f"first    {self.first_run_ms:.3f} ms (cold, before warm-up)")
        if self.load_s is not None:
            lines.append(f"load     {self.load_s * 1e3:.1f} ms")
        if self.memory_kb:
            lines.append("memory   " + ", ".join(f"{k}={v} KB" for k, v in self.memory_kb.items()) + " (peak RSS)")
        if self.upload:
            lines.append("upload   " + ", ".join(f"{k}={v}" for k, v in self.upload.items()))
        for side, faults in (("host", self.faults), ("board", self.board_faults)):
            if faults:
                lines.append(f"link     {side}: " + (", ".join(f"{k}={v}" for k, v in faults.items() if v)
                                                     or "no faults"))
        if self.check:
            rows = "; ".join(f"output {r['index']}: {r['status']}" + (
                f" max_abs={r['max_abs_err']:.3g} max_rel={r['max_rel_err']:.3g}" if "max_abs_err" in r
                else f" ({r.get('reason')})") for r in self.check["outputs"])
            lines.append(f"check    {self.check['status']} (rtol={self.check.get('rtol')}, "
                         f"atol={self.check.get('atol')}) {rows}".rstrip())
        if self.outputs is not None:
            lines.append("outputs  " + ", ".join(f"{o.dtype}{list(o.shape)}" for o in self.outputs))
        return "\n".join(lines)


def summary_table(results: list[DeviceResult]) -> str:
    """One line per package: where it ran, median / p95 latency, peak memory and the check."""
    rows = [("package", "device", "median ms", "p95 ms", "peak RSS KB", "check")]
    for r in results:
        stats = r.stats.summary()
        rows.append((r.package, r.device, f"{stats['median']:.4f}", f"{stats['p95']:.4f}",
                     str((r.memory_kb or {}).get("peak", "-")), (r.check or {}).get("status", "-")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
