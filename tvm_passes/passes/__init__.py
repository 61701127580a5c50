"""sedge's own Relax rewrite passes, one per file, in one registry.

`PASSES` maps a pass name to a factory `tvm.target.Target -> tvm.transform.Pass`, in the
order the `rewrite` phase runs them. Register with `@register_pass("Name")`.
A pass returns the module unchanged where it cannot handle a case (or target).
"""
from sedge.registry import Registry

PASSES = Registry("pass")
register_pass = PASSES.register


# registration order is run order: clamps become Relax ops before the layout rewrite sees them
from sedge.tvm_passes.passes import scalar_clamps  # noqa: E402,F401,I001 - registers its pass
from sedge.tvm_passes.passes import inline_constructs  # noqa: E402,F401 - after construct passes, before layouts
from sedge.tvm_passes.passes import channels_last  # noqa: E402,F401 - registers its pass
from sedge.tvm_passes.passes import winograd_conv  # noqa: E402,F401 - before packing: takes its 3x3 convs
from sedge.tvm_passes.passes import packed_conv  # noqa: E402,F401 - after channels_last: packs its HWIO weights
