"""TVM's tensor intrinsics (`tvm.s_tir.tensor_intrin`) imported in seconds rather than ~30 s.

The package parses about 250 TVMScript functions on import, and each one calls
`inspect.stack()`, which looks up the source line of every frame on the stack; for a frame of
no file (the import machinery's frozen frames) each lookup scans all of sys.modules: about
48,000 scans per import (cProfile). TVMScript reads the source line of the third frame (the
decorator's caller, utils.is_defined_in_class) and only the locals of the others, so while
TVM imports the package, `lean_frame_stacks` gives `inspect.stack` source lines for the
first three frames only, and restores it after. Two places import the package: MetaSchedule's
TuneContext (`sedge tune`: `import_tensor_intrinsics` before it), and dlight's GPU matmul rule,
lazily, on a float16 or int8 matmul (`sedge compile --target cuda --mixed-precision`: the
recipe's `ImportTensorIntrinsics` before dlight's rules).
"""
import contextlib
import inspect
import sys

import tvm

# the frames whose source line TVMScript's parser reads: utils.is_defined_in_class reads the
# third one's (the decorator's caller); of the others it reads only the locals
SOURCE_FRAMES = 3


def _lean_stack(context: int = 1):
    """`inspect.stack()` with source lines for the first SOURCE_FRAMES frames only."""
    frame, frames = sys._getframe(1), []
    while frame is not None:
        if len(frames) < SOURCE_FRAMES:
            info = inspect.getframeinfo(frame, context)
            frames.append(inspect.FrameInfo(frame, *info, positions=info.positions))
        else:
            code = frame.f_code
            frames.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None,
                                            positions=None))
        frame = frame.f_back
    return frames


@contextlib.contextmanager
def lean_frame_stacks():
    """`inspect.stack` as `_lean_stack` inside the block, itself again after it."""
    stack, inspect.stack = inspect.stack, _lean_stack
    try:
        yield
    finally:
        inspect.stack = stack


def import_tensor_intrinsics():
    """Import `tvm.s_tir.tensor_intrin` (MetaSchedule's TuneContext imports it)."""
    if "tvm.s_tir.tensor_intrin" not in sys.modules:
        with lean_frame_stacks():
            import tvm.s_tir.tensor_intrin  # noqa: F401


# the input dtypes for which dlight's GPU matmul rule takes a tensor-core schedule, importing
# the intrinsics (s_tir/dlight/gpu/matmul.py: MatmulTensorization, MatmulInt8Tensorization)
TENSOR_CORE_DTYPES = ("float16", "int8")


def import_for_tensor_cores() -> tvm.transform.Pass:
    """A pass that changes nothing: it imports the intrinsics, the fast way, when a kernel of
    the module reads a tensor-core dtype, before dlight's GPU rules import them the slow way."""

    @tvm.transform.module_pass(opt_level=0, name="ImportTensorIntrinsics")
    def run(mod, _ctx):
        kernels = [f for f in mod.functions.values() if isinstance(f, tvm.tirx.PrimFunc)]
        if any(str(p.dtype) in TENSOR_CORE_DTYPES for f in kernels for p in f.params):
            import_tensor_intrinsics()
        return mod

    return run
