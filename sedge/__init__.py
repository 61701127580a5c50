"""sedge: an edge-deployment compiler for compressed neural networks, on Apache TVM (Relax).

The API is loaded lazily, so that `import sedge.errors` (used on boards, by the hardware
models) pulls in neither TVM nor torch.
"""
_API = {"load", "compile", "run", "layer_records", "verify", "RunOptions", "Result", "Verification"}


def __getattr__(name):
    if name in _API:
        from sedge import api

        return getattr(api, name)
    if name == "CompileOptions":
        from sedge.tvm_passes.build import CompileOptions

        return CompileOptions
    if name == "Package":
        from sedge.runtime.package import Package

        return Package
    raise AttributeError(f"module 'sedge' has no attribute '{name}'")
