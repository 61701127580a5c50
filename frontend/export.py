"""Export a model with its compressed layers kept whole: ONNX with `sedge` local functions, or .pt2.

ONNX: torch's TorchScript exporter writes one `sedge.<Name>` node per compressed layer (the
symbolics of onnx_functions/), then the FunctionProtos of the used functions are attached so
that ONNX Runtime runs the file through their standard-op bodies while sedge's importer maps
each node to one Relax construct. `.pt2`: torch.export with the `torch.ops.sedge.*` ops.
Files are written atomically (temp file + rename).
"""
import warnings
from pathlib import Path

from sedge.errors import SedgeError, one_line
from sedge.files import atomic_write
from sedge.frontend.onnx_functions.body import DOMAIN, OPSET, VERSION

FORMATS = (".onnx", ".pt2")
_registered = False


def _register_symbolics():
    global _registered
    if _registered:
        return
    import torch

    from sedge.frontend.onnx_functions import SYMBOLICS

    for op, symbolic in SYMBOLICS.items():
        torch.onnx.register_custom_op_symbolic(op, symbolic, VERSION)
    _registered = True


def attach_functions(proto):
    """Add the FunctionProtos of every sedge function the graph (or a function) calls."""
    import onnx

    from sedge.frontend.onnx_functions import FUNCTIONS

    needed = [n.op_type for n in proto.graph.node if n.domain == DOMAIN]
    done = set()
    while needed:
        name = needed.pop()
        if name in done:
            continue
        builder, calls = FUNCTIONS[name]
        proto.functions.append(builder())
        needed.extend(calls)
        done.add(name)
    if done and not any(o.domain == DOMAIN for o in proto.opset_import):
        proto.opset_import.append(onnx.helper.make_opsetid(DOMAIN, VERSION))
    return proto


def _uses_sedge(model) -> bool:
    """Whether any layer exports as a sedge function (declaring an unused opset makes torch warn)."""
    return any(type(m).__module__.startswith("sedge.frontend.layers") for m in model.modules())


def export_onnx(model, example, path: str) -> str:
    """`model` (eval mode) traced on `example` into an ONNX file with sedge functions."""
    import onnx
    import torch

    _register_symbolics()

    def write(tmp):
        with warnings.catch_warnings():  # tracing warns about shape-dependent Python branches, fixed per export
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(model, (example,), tmp, dynamo=False, opset_version=OPSET, input_names=["input"],
                              output_names=["output"], custom_opsets={DOMAIN: VERSION} if _uses_sedge(model) else None)
        proto = attach_functions(onnx.load(tmp))
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)

    return str(atomic_write(path, write))


def export_pt2(model, example, path: str) -> str:
    import torch

    program = torch.export.export(model, (example,))
    return str(atomic_write(path, lambda tmp: torch.export.save(program, tmp)))


def load_zoo_model(name: str, seed: int = 0, checkpoint: str | None = None):
    """Zoo model `name` with seeded random weights, or the weights of a state-dict checkpoint."""
    import torch

    from sedge.frontend.zoo import build

    model = build(name, seed)
    if checkpoint:
        if not Path(checkpoint).is_file():
            raise SedgeError(f"checkpoint '{checkpoint}' does not exist")
        try:
            model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
        except (RuntimeError, ValueError, OSError) as err:
            raise SedgeError(f"checkpoint '{checkpoint}' does not fit zoo model '{name}': {one_line(err)}") from None
    return model


def check_output(path: str, formats=FORMATS) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in formats:
        raise SedgeError(f"cannot write '{path}'; allowed suffixes: {', '.join(formats)}")
    return suffix


def save_model(model, example, path: str) -> str:
    """Write `model` by the suffix of `path`: .onnx (sedge functions), .pt2, or .pt (the whole module,
    pickled by torch.save, for fine-tuning)."""
    import torch

    suffix = check_output(path, FORMATS + (".pt",))
    if suffix == ".pt":
        return str(atomic_write(path, lambda tmp: torch.save(model, tmp)))
    return (export_onnx if suffix == ".onnx" else export_pt2)(model, example, path)


def export_zoo_model(name: str, path: str, seed: int = 0, checkpoint: str | None = None) -> str:
    """Build zoo model `name` (seeded random weights, or a state dict) and export it by suffix."""
    import torch

    check_output(path)
    model = load_zoo_model(name, seed, checkpoint)
    return save_model(model, torch.zeros(model.zoo_spec.input_shape), path)
