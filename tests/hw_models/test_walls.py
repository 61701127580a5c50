"""hw_models and boards run where there is no compiler: they import neither TVM nor torch."""
import subprocess
import sys


def test_hardware_models_and_boards_import_neither_tvm_nor_torch():
    code = ("import sys, sedge.hw_models, sedge.hw_models.plots, sedge.hw_models.calibrate, sedge.boards; "
            "sedge.boards.load_board('host'); "
            "print(sorted(m for m in ('tvm', 'torch', 'tvm_ffi') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
