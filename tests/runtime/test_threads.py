"""TVM's thread count defaults to the physical cores, and the user's setting wins."""
import os
import subprocess
import sys

from sedge.runtime.threads import physical_cores


def test_physical_cores_is_within_the_logical_count():
    assert 1 <= physical_cores() <= len(os.sched_getaffinity(0))


def _threads_seen(env):
    code = "import sedge.runtime, os; print(os.environ['TVM_NUM_THREADS'])"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.strip()


def test_default_and_override():
    env = {k: v for k, v in os.environ.items() if k != "TVM_NUM_THREADS"}
    assert _threads_seen(env) == str(physical_cores())
    assert _threads_seen({**env, "TVM_NUM_THREADS": "1"}) == "1"
