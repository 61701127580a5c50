"""The runtime runs on a board: it never imports the compiler, the frontend or torch."""
import pkgutil
import subprocess
import sys

import sedge.runtime


def test_no_runtime_module_imports_the_compiler_frontend_or_torch():
    modules = [m.name for m in pkgutil.walk_packages(sedge.runtime.__path__, "sedge.runtime.")
               if not m.name.endswith("__main__")]  # entry points run on import
    assert "sedge.runtime.executor" in modules and "sedge.runtime.agent.server" in modules
    code = (f"import importlib, sys; [importlib.import_module(m) for m in {modules!r}]; "
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith(('sedge.frontend', "
            "'sedge.tvm_passes', 'sedge.cli', 'onnx'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
