"""Timing statistics over repeated runs, as tvmc and TFLite's benchmark tool report them."""
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimingStats:
    """Per-run latencies in milliseconds and their summary."""

    samples_ms: tuple

    @property
    def count(self):
        return len(self.samples_ms)

    def _values(self):
        return np.asarray(self.samples_ms, dtype=float)

    def summary(self) -> dict:
        v = self._values()
        return {"count": int(v.size), "first": float(v[0]), "mean": float(v.mean()), "median": float(np.median(v)),
                "max": float(v.max()), "min": float(v.min()), "std": float(v.std()),
                "p5": float(np.percentile(v, 5)), "p95": float(np.percentile(v, 95))}

    def tvmc_table(self) -> str:
        """tvmc's `--print-time` block, character for character: tvmc printed TVM's
        `str(BenchmarkResult)` (mean, median, max, min, std in ms, 4 decimals)."""
        s = self.summary()
        keys = ("mean", "median", "max", "min", "std")
        header = " ".join(f"{k + ' (ms)':^12}" for k in keys)
        row = " ".join(f"{s[k]:^12.4f}" for k in keys) + " " * 15
        return f"Execution time summary:\n{header}\n{row}"
