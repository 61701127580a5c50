"""Per-kernel profiles through the Relax VM's instrument hook (TVM 0.27 has no profiler).

Each compiled kernel call is timed between the hook's before/after callbacks; VM builtins
(allocation, shape checks) are left out. On a GPU, where a call only queues its kernel, the
hook waits for the device at both callbacks, so each row holds its kernel's run (plus one
synchronisation, some microseconds) instead of its launch. Rows: name, total duration,
percent, call count, argument shapes.
"""
from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sedge.errors import SedgeError
from sedge.files import atomic_write


@dataclass
class KernelRow:
    name: str
    duration_us: float
    percent: float
    count: int
    shapes: str


def profile(executor, inputs, runs: int = 5) -> list[KernelRow]:
    """Run `runs` times under the instrument; rows sorted by total time, per run."""
    from tvm.runtime.vm import VMInstrumentReturnKind

    totals, counts, shapes, started = {}, {}, {}, {}
    on_cpu = executor.device.dlpack_device_type() == 1  # kDLCPU: a kernel call returns when it is done

    def hook(_func, symbol, before_run, _ret, *args):
        if symbol.startswith("vm.builtin."):
            return VMInstrumentReturnKind.NO_OP
        if not on_cpu:
            executor.device.sync()
        if before_run:
            started[symbol] = time.perf_counter()
        else:
            totals[symbol] = totals.get(symbol, 0.0) + time.perf_counter() - started.pop(symbol)
            counts[symbol] = counts.get(symbol, 0) + 1
            shapes.setdefault(symbol, " ".join(str(list(a.shape)) for a in args if hasattr(a, "shape")))
        return VMInstrumentReturnKind.NO_OP

    executor.run(inputs)  # warm-up outside the profile
    executor.vm.set_instrument(hook)
    try:
        for _ in range(runs):
            executor.run(inputs)
    finally:
        executor.vm.set_instrument(lambda *a: VMInstrumentReturnKind.NO_OP)
    grand = sum(totals.values()) or 1.0
    rows = [KernelRow(name, totals[name] / runs * 1e6, 100 * totals[name] / grand, counts[name] // runs, shapes[name])
            for name in totals]
    return sorted(rows, key=lambda r: -r.duration_us)


def format_table(rows: list[KernelRow]) -> str:
    width = max([len(r.name) for r in rows] + [4])
    lines = [f"{'Name':<{width}}  {'Duration (us)':>13}  {'Percent':>7}  {'Count':>5}  Argument shapes"]
    lines += [f"{r.name:<{width}}  {r.duration_us:>13.2f}  {r.percent:>7.2f}  {r.count:>5}  {r.shapes}" for r in rows]
    lines.append(f"{'Total':<{width}}  {sum(r.duration_us for r in rows):>13.2f}  {100:>7.2f}")
    return "\n".join(lines)


def write_profile(rows: list[KernelRow], path: str):
    """Write the rows as CSV or JSON, chosen by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise SedgeError(f"--profile-out '{path}' must end in .csv or .json")

    def write(tmp):
        with open(tmp, "w", newline="") as out:
            if suffix == ".json":
                json.dump([asdict(r) for r in rows], out, indent=1)
            else:
                writer = csv.DictWriter(out, fieldnames=list(KernelRow.__dataclass_fields__))
                writer.writeheader()
                writer.writerows(asdict(r) for r in rows)

    atomic_write(path, write)
