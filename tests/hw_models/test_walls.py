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


def test_frontend_and_hardware_models_do_not_import_the_runtime():
    """The package/record contract is the ground package's (sedge.contract): the stages that
    write or read it never reach into the runtime for it."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for stage in ("frontend", "hw_models", "boards"):
        for path in (root / stage).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                offenders += [f"{path.relative_to(root)}: {n}" for n in names if n.startswith("sedge.runtime")]
    assert offenders == []
