"""Compressed layers as PyTorch modules, one file per method family (see docs methods.md).

Each family's eval-time forward is one `torch.ops.sedge.*` custom op (or standard ops), the
exact computation sedge compiles; importing a family's module registers its op.
"""
