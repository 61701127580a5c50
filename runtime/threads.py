"""How many threads TVM's pool should run: one per physical core this process may use.

TVM's own default is half the logical CPUs (it assumes two hardware threads per core), which
on a machine without SMT (many servers' vCPUs, every Cortex-A board) leaves half the cores
idle. Physical cores come from Linux's CPU topology; elsewhere, the logical count.
"""
import os
from pathlib import Path


def physical_cores() -> int:
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return max(1, len(cores))


def set_default_threads():
    """Set TVM_NUM_THREADS (read once, when TVM starts its pool) unless the user has."""
    os.environ.setdefault("TVM_NUM_THREADS", str(physical_cores()))
