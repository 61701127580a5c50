"""torch.export `.pt2` files -> Model, through TVM's Relax ExportedProgram frontend."""
from sedge.contract import TensorSpec
from sedge.errors import ModelImportError, SedgeError, UnsupportedOpError, one_line
from sedge.files import sha256_file
from sedge.frontend.model import Model
from sedge.registry import Registry

# converters for sedge's custom torch ops: fn(node, importer). TVM looks them up by
# `node.target.__name__`, which has no namespace: keys are "structured_conv.default", ...
CUSTOM_CONVERT_MAP = Registry("torch.export converter for")
register_torch_converter = CUSTOM_CONVERT_MAP.register


def _read_program(path):
    import logging

    import torch

    # torch.export logs a whole traceback before raising; the one-line error below says it all
    logging.getLogger("torch.export").setLevel(logging.CRITICAL)
    try:
        return torch.export.load(path)
    except Exception as err:
        raise ModelImportError(f"'{path}' is not a torch.export program (.pt2): {one_line(err)}") from None


def _input_specs(program, input_shapes: dict) -> list[TensorSpec]:
    from torch.export.graph_signature import InputKind

    placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
    specs = []
    for spec in program.graph_signature.input_specs:
        if spec.kind != InputKind.USER_INPUT:
            continue
        value = placeholders[spec.arg.name].meta["val"]
        shape = [int(d) if str(d).isdigit() else None for d in value.shape]
        name = spec.arg.name
        if name in input_shapes:
            wanted = input_shapes[name]
            if len(wanted) != len(shape) or any(d is not None and d != w for d, w in zip(shape, wanted)):
                raise SedgeError(f"--input-shapes gives '{name}' shape {wanted}, but the program was exported "
                                 f"for {shape} (None = dynamic); re-export it or match that shape")
            shape = wanted
        elif None in shape:
            raise SedgeError(f"input '{name}' has a dynamic shape; give it with --input-shapes \"{name}:[...]\"")
        specs.append(TensorSpec(name, list(shape), str(value.dtype).replace("torch.", "")))
    unknown = set(input_shapes) - {s.name for s in specs}
    if unknown:
        raise SedgeError(f"--input-shapes names unknown input(s) {sorted(unknown)}; "
                         f"the program's inputs are {[s.name for s in specs]}")
    return specs


def from_program(program, inputs: list[TensorSpec]):
    """Relax module (weights as trailing inputs) and its weights, or a one-line import error."""
    from tvm import relax
    from tvm.relax.frontend.torch import from_exported_program

    try:
        mod = from_exported_program(program, keep_params_as_input=True, unwrap_unit_return_tuple=True,
                                    custom_convert_map=dict(CUSTOM_CONVERT_MAP))
    except AssertionError as err:
        if "Unsupported function types" in str(err):
            raise UnsupportedOpError(str(err).split("types", 1)[1].strip(),
                                     "the aten operators of TVM's Relax torch frontend") from None
        raise ModelImportError(f"TVM could not import the program: {err}") from None
    except Exception as err:
        raise ModelImportError(f"TVM could not import the program: {one_line(err, last=True)}") from None
    mod, params = relax.frontend.detach_params(mod)
    main = mod["main"]
    mod["main"] = main.with_attr("num_input", len(inputs))
    names = [p.name for p in main.params[len(inputs):]]
    return mod, [p.numpy() for p in params.get("main", [])], names


def load(path: str, input_shapes: dict) -> Model:
    import sedge.frontend.importers  # noqa: F401  registers torch.ops.sedge.* and their converters

    program = _read_program(path)
    inputs = _input_specs(program, input_shapes)
    mod, params, names = from_program(program, inputs)
    return Model(mod, params, names, inputs, {"format": "pytorch", "path": str(path), "sha256": sha256_file(path)})
