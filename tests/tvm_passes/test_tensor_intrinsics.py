"""TVM's tensor intrinsics imported with lean frame stacks (tvm_passes/tensor_intrinsics.py):
the same frames and lines where TVMScript reads them, the same intrinsics registered, and
`inspect.stack` itself again afterwards."""
import inspect

import pytest


def _stack_here(stack):
    return stack()


def test_lean_stack_keeps_what_tvmscript_reads():
    """The stack used while `tvm.s_tir.tensor_intrin` is imported: the same frames as
    `inspect.stack()`, and the source lines of the first three (TVMScript's parser reads the
    third's); deeper frames carry no line, which is what made the import take ~30 s."""
    from sedge.tvm_passes.tensor_intrinsics import SOURCE_FRAMES, _lean_stack

    lean, full = _stack_here(_lean_stack), _stack_here(inspect.stack)
    assert [f.frame for f in lean[1:]] == [f.frame for f in full[1:]]  # [0]: each call's own frame
    assert [(f.filename, f.lineno, f.function) for f in lean] == [(f.filename, f.lineno, f.function) for f in full]
    assert [f.code_context for f in lean[:SOURCE_FRAMES]] == [f.code_context for f in full[:SOURCE_FRAMES]]
    assert lean[0].code_context == ["    return stack()\n"]
    assert all(f.code_context is None for f in lean[SOURCE_FRAMES:])


def test_tensor_intrinsics_import_registers_them_and_restores_the_stack():
    """In a fresh process (the import happens once per process): MetaSchedule's intrinsics
    registered as by a plain import, and `inspect.stack` itself again afterwards."""
    import subprocess
    import sys

    code = ("import inspect; stack = inspect.stack\n"
            "from sedge.tvm_passes.tensor_intrinsics import import_tensor_intrinsics\n"
            "import_tensor_intrinsics()\n"
            "from tvm.s_tir import TensorIntrin\n"
            "assert inspect.stack is stack\n"
            "print(TensorIntrin.get('dot_16x4_vnni').desc.params[0].dtype)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["uint8"]


def test_lean_frame_stacks_restore_inspect_stack_even_on_error():
    from sedge.tvm_passes.tensor_intrinsics import _lean_stack, lean_frame_stacks

    stack = inspect.stack
    with pytest.raises(KeyError), lean_frame_stacks():
        assert inspect.stack is _lean_stack
        raise KeyError("inside")
    assert inspect.stack is stack


def test_gpu_recipes_import_the_intrinsics_before_dlight_and_only_for_tensor_core_dtypes(monkeypatch):
    """The CUDA recipe's ImportTensorIntrinsics stands before dlight's defaults (a CPU recipe has
    neither); it imports for a module with a float16 kernel and not for a float32 one."""
    import tvm
    from tvm import te

    from sedge.tvm_passes import tensor_intrinsics
    from sedge.tvm_passes.pipeline import phases

    cuda = [p.info.name for p in phases(tvm.target.Target({"kind": "cuda", "arch": "sm_90"}))["schedule"]]
    assert cuda.index("ImportTensorIntrinsics") == cuda.index("ApplyDefaultSchedule") - 1
    assert "ImportTensorIntrinsics" not in [p.info.name for p in phases(tvm.target.Target("llvm"))["schedule"]]

    imports = []
    monkeypatch.setattr(tensor_intrinsics, "import_tensor_intrinsics", lambda: imports.append(1))
    for dtype, expected in (("float32", []), ("float16", [1])):
        x = te.placeholder((4, 4), dtype, "x")
        mod = tvm.IRModule({"k": te.create_prim_func([x, te.compute((4, 4), lambda i, j: x[i, j] * 2)])})
        imports.clear()
        assert tensor_intrinsics.import_for_tensor_cores()(mod).same_as(mod)
        assert imports == expected, dtype
