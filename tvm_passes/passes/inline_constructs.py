"""Inline the compressed layers' construct functions that no pass has replaced.

The importers emit each compressed layer as a call to a private function tagged
"sedge.op" (frontend/importers/construct.py) so that a pass can find it. Once the passes
that replace constructs have run, a call that is left is only a boundary: the layout
rewrite stops at it (an NCHW <-> NHWC transpose on each side), `lift-params` cannot see its
weight transposes (they ran on every inference), and fusion cannot cross it. Inlined, the
generic path gets the channels-last layout, load-time weight packing, fusion and schedules
of every other conv. Passes that replace a construct run before this one.
"""
import tvm
from tvm import relax


def inline_constructs(_target: tvm.target.Target) -> tvm.transform.Pass:
    return relax.transform.InlinePrivateFunctions()
