"""TVM's thread count: set by the Executor to the physical cores when it loads a package, the
user's TVM_NUM_THREADS wins, and importing a stage sets nothing."""
import os
import subprocess
import sys

import pytest

from sedge.host import this_host


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TVM_NUM_THREADS"}
    return {**env, **extra}


def _python(code, env):
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("stage", ["sedge.runtime", "sedge.hw_models", "sedge.boards", "sedge.frontend",
                                   "sedge.tvm_passes.pipeline"])
def test_importing_a_stage_sets_no_thread_count(stage):
    assert _python(f"import os, {stage}; print(os.environ.get('TVM_NUM_THREADS'))", _env()) == "None"


def _pool_after_a_run(package, env):
    code = ("import numpy as np, tvm_ffi; from sedge.runtime.package import open_package; "
            "from sedge.runtime.executor import Executor; "
            f"e = Executor(open_package({str(package)!r})); "
            "e.run({i.name: np.zeros(i.shape, i.dtype) for i in e.metadata.inputs}); "
            "print(tvm_ffi.get_global_func('runtime.NumThreads')())")
    return _python(code, env)


def test_a_loaded_package_runs_on_every_physical_core_unless_the_user_says(compiled_resnet):
    assert _pool_after_a_run(compiled_resnet.path, _env()) == str(this_host().physical_cores)
    assert _pool_after_a_run(compiled_resnet.path, _env(TVM_NUM_THREADS="1")) == "1"
