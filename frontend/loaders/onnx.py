"""ONNX files -> Model, through TVM's Relax ONNX frontend."""
import numpy as np

from sedge.errors import ModelImportError, SedgeError, UnsupportedOpError, one_line
from sedge.files import sha256_file
from sedge.frontend.model import Model
from sedge.runtime.metadata import TensorSpec


def _input_specs(graph, input_shapes: dict) -> list[TensorSpec]:
    import onnx

    initializers = {init.name for init in graph.initializer}
    specs = []
    for value in graph.input:
        if value.name in initializers:
            continue
        tensor_type = value.type.tensor_type
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)).name
        if value.name in input_shapes:
            shape = list(input_shapes[value.name])
        else:
            dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
            if any(d is None or d <= 0 for d in dims):
                raise SedgeError(f"input '{value.name}' has a dynamic shape {dims}; give it with "
                                 f"--input-shapes \"{value.name}:[d1,d2,...]\"")
            shape = dims
        specs.append(TensorSpec(value.name, shape, dtype))
    unknown = set(input_shapes) - {s.name for s in specs}
    if unknown:
        raise SedgeError(f"--input-shapes names unknown input(s) {sorted(unknown)}; "
                         f"the model's inputs are {[s.name for s in specs]}")
    return specs


def read_onnx(path):
    """The parsed, checked ONNX ModelProto, or a one-line import error."""
    import onnx

    try:
        proto = onnx.load(path)
        onnx.checker.check_model(proto)
    except Exception as err:  # onnx raises DecodeError, ValidationError, OSError...
        raise ModelImportError(f"'{path}' is not a valid ONNX model: {one_line(err)}") from None
    return proto


def from_onnx_proto(proto, inputs: list[TensorSpec]):
    """Relax module (weights as trailing inputs) and its weights, or a one-line import error."""
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    from sedge.frontend.onnx_ops import converters_installed

    try:
        with converters_installed():
            mod = from_onnx(proto, shape_dict={s.name: s.shape for s in inputs},
                            dtype_dict={s.name: s.dtype for s in inputs}, keep_params_in_input=True)
    except tvm.error.OpNotImplemented as err:
        ops = str(err).split(":")[-1].strip()
        raise UnsupportedOpError(ops, "see the ONNX operators of TVM's Relax frontend and sedge's "
                                      "functions in the README") from None
    except Exception as err:
        raise ModelImportError(f"TVM could not import the ONNX model: {one_line(err, last=True)}") from None
    mod, params = relax.frontend.detach_params(mod)
    names = [p.name for p in mod["main"].params[len(inputs):]]
    return mod, [p.numpy() for p in params.get("main", [])], names


def load(path: str, input_shapes: dict) -> Model:
    import sedge.frontend.importers  # noqa: F401  registers the converters of sedge's functions
    from sedge.frontend.importers.fallback import inline_unconverted_functions

    proto = read_onnx(path)
    inputs = _input_specs(proto.graph, input_shapes)
    proto, notes = inline_unconverted_functions(proto)
    mod, params, names = from_onnx_proto(proto, inputs)
    return Model(mod, params, names, inputs, {"format": "onnx", "path": str(path), "sha256": sha256_file(path)},
                 notes)
