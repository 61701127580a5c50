"""Compiled packages timed in turn in one process, and each one's latency over a reference's.

    python -m benchmarks.interleaved REFERENCE.tar A.tar [B.tar ...] [--repeat 60] [--threads N] [--cpu-time]

For a shared machine, where `benchmarks.models` (one process per model) pairs a compressed
model with its dense parent from runs minutes apart: every package loads into this one
process and they run in blocks of BLOCK runs in turn (reference, A, B, reference, A, ...), a
short pause before each block so that the previous package's spinning worker threads sleep,
until each has `--repeat` timed runs. Each row gives the median, its 10th percentile and both
over the reference's. `--cpu-time` times each run by this thread's CPU time instead of the
wall clock: with `--threads 1` TVM runs every kernel on this thread, and other processes' turns
on the cores no longer count (their cache traffic still does) — the figure to compare on a
loaded machine, where two threads wait at every kernel's barrier for a descheduled worker.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

BLOCK = 5
SETTLE_SECONDS = 0.05


def ratios(samples: dict, reference: str) -> list[dict]:
    """Per package: median and 10th-percentile ms and both over the reference's."""
    ref = samples[reference]
    rows = []
    for name, values in samples.items():
        median, p10 = float(np.median(values)), float(np.percentile(values, 10))
        rows.append({"package": name, "median_ms": median, "p10_ms": p10,
                     "median_ratio": median / float(np.median(ref)), "p10_ratio": p10 / float(np.percentile(ref, 10))})
    return rows


def time_in_turn(runs: dict, repeat: int, clock=time.perf_counter) -> dict:
    """{name: [ms]}: `runs` ({name: (function, arguments)}) called in blocks of BLOCK in turn,
    each block after a short pause and an untimed call, until each has `repeat` timed calls."""
    samples = {name: [] for name in runs}
    while min(len(s) for s in samples.values()) < repeat:
        for name, (function, call_args) in runs.items():
            time.sleep(SETTLE_SECONDS)
            function(*call_args)  # untimed: this package's caches and threads warm again
            for _ in range(BLOCK):
                started = clock()
                function(*call_args)
                samples[name].append((clock() - started) * 1e3)
    return samples


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", nargs="+", help="the reference first, then the packages to compare with it")
    parser.add_argument("--repeat", type=int, default=60, help="timed runs per package")
    parser.add_argument("--threads", type=int, help="TVM threads (default: the runtime's, one per core)")
    parser.add_argument("--cpu-time", action="store_true", help="time runs by this thread's CPU time")
    args = parser.parse_args(argv)
    if args.threads:
        os.environ["TVM_NUM_THREADS"] = str(args.threads)
    os.environ.setdefault("TVM_BIND_THREADS", "0")  # a worker pinned to a busy core holds up every kernel
    from sedge.runtime.executor import Executor
    from sedge.runtime.package import open_package

    clock = time.thread_time if args.cpu_time else time.perf_counter
    runs = {}
    for path in args.packages:
        executor = Executor(open_package(path))
        feed = {s.name: np.random.default_rng(0).standard_normal(s.shape).astype(s.dtype)
                for s in executor.metadata.inputs}
        executor.run(feed)  # warm up, and fills the executor's input tensors
        runs[Path(path).name] = (executor.vm["main"], [*executor._inputs(feed), *executor.params])
    samples = time_in_turn(runs, args.repeat, clock)
    print(f"| package | median ms | p10 ms | / {Path(args.packages[0]).name} (median) | (p10) |\n|---|---|---|---|---|")
    for row in ratios(samples, Path(args.packages[0]).name):
        print(f"| {row['package']} | {row['median_ms']:.3f} | {row['p10_ms']:.3f} | {row['median_ratio']:.3f} | "
              f"{row['p10_ratio']:.3f} |")
    print(f"\n{args.repeat} runs each in blocks of {BLOCK}, {'thread CPU time' if args.cpu_time else 'wall clock'}, "
          f"TVM_NUM_THREADS={os.environ.get('TVM_NUM_THREADS', 'default')}, load average "
          f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
