"""How many threads TVM's pool should run: one per physical core this process may use.

TVM's own default is half the logical CPUs (it assumes two hardware threads per core), which
on a machine without SMT (many servers' vCPUs, every Cortex-A board) leaves half the cores
idle. The core count comes from the host model (sedge.host). The Executor sets it when it
loads a package, which is before TVM starts its pool: importing the runtime changes nothing.
"""
import os

from sedge.host import this_host


def set_default_threads():
    """Set TVM_NUM_THREADS (read once, when TVM starts its pool) unless the user has."""
    os.environ.setdefault("TVM_NUM_THREADS", str(this_host().physical_cores))
