"""sedge's hand-written kernels (TIR / TE), each marked scheduled and, where nothing may be
fused into it, opaque to Relax's FuseOps."""

OPAQUE = 8  # relax's OpPatternKind.kOpaque: FuseOps fuses nothing into the kernel
