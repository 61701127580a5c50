"""Importers of sedge's compressed layers into Relax, one module per family.

Importing this package registers each family's ONNX converter (`sedge` domain functions, in
`frontend.onnx_ops.CONVERTERS`) and torch.export converter (`torch.ops.sedge.*`, in
`frontend.loaders.pytorch.CUSTOM_CONVERT_MAP`); both emit the construct of construct.py. It
also imports the layers, which registers the `torch.ops.sedge.*` ops, so that `.pt2`
programs using them load.
"""
from sedge.frontend.importers import acdc, csg, fft, standard, structured  # noqa: F401  (registration)
from sedge.frontend.layers import acdc as _acdc  # noqa: F401  (registers torch.ops.sedge.*)
from sedge.frontend.layers import csg as _csg  # noqa: F401
from sedge.frontend.layers import fft as _fft  # noqa: F401
from sedge.frontend.layers import structured as _structured  # noqa: F401
