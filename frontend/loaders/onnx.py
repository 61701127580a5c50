"""ONNX files -> Model, through TVM's Relax ONNX frontend."""
import contextlib
import gc
import io
import os
import re
import sys

import numpy as np

from sedge.contract import TensorSpec
from sedge.errors import ModelImportError, SedgeError, UnsupportedOpError, one_line
from sedge.files import sha256_file
from sedge.frontend.model import Model


def _element_dtype(elem_type: int, what: str) -> np.dtype:
    import onnx

    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError):
        raise ModelImportError(f"{what} has element type {elem_type}, which is no ONNX tensor type "
                               "(0 is UNDEFINED); allowed: ONNX's TensorProto data types") from None


def _check_initializers(graph):
    """Each stored weight decodes as its declared type and shape: a file whose dims disagree
    with its data is refused here, in one line, rather than deep inside the importer."""
    from onnx import TensorProto, numpy_helper

    for init in graph.initializer:
        _element_dtype(init.data_type, f"initializer '{init.name}'")
        if init.data_location == TensorProto.EXTERNAL:
            continue  # read, and checked, by onnx.load_external_data_for_model
        try:
            numpy_helper.to_array(init)
        except (ValueError, TypeError) as err:
            raise ModelImportError(f"initializer '{init.name}' does not hold the data its type and dims "
                                   f"{list(init.dims)} declare ({one_line(err)})") from None


def _input_specs(graph, input_shapes: dict) -> list[TensorSpec]:
    initializers = {init.name for init in graph.initializer}
    specs = []
    for value in graph.input:
        if value.name in initializers:
            continue
        kind = value.type.WhichOneof("value")
        if kind not in (None, "tensor_type"):  # sequence, optional, map, sparse tensor
            raise ModelImportError(f"input '{value.name}' is an ONNX {kind.removesuffix('_type')} value; "
                                   "allowed: tensor inputs (sedge compiles graphs of tensors)")
        tensor_type = value.type.tensor_type
        dtype = _element_dtype(tensor_type.elem_type, f"input '{value.name}'").name
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


def _require_static_shapes(main):
    """A one-line import error at the first value whose shape TVM could not fix at import:
    one that depends on the input's values (a Slice to an index the model reads from its
    input, say). sedge compiles static shapes; the passes after import would fail on it."""
    from tvm import relax, tirx

    for block in main.body.blocks:
        for binding in block.bindings:
            ty = binding.var.ty
            if isinstance(ty, relax.TensorType) and not (
                    isinstance(ty.shape, relax.ShapeExpr) and all(isinstance(d, tirx.IntImm) for d in ty.shape.values)):
                op = getattr(getattr(binding.value, "op", None), "name", type(binding.value).__name__)
                raise ModelImportError(f"'{op}' gives a tensor whose shape is known only at run time ({ty}); "
                                       "sedge compiles models whose shapes follow from the input shapes alone")


_INDEX_DTYPES = (np.int32, np.int64)


def _drop_wraps_of_nonnegative_indices(main):
    """`main` with TVM's wrap of a Gather's indices, where(i < 0, i + n, i), replaced by `i`
    when `i` is a constant with no negative index: nothing to wrap, and FoldConstant would
    otherwise compile and run a kernel per op of the wrap (a hashed WideResNet's 36 wraps
    made its compile 14.0 s where it is 7.4 s). Negative constant indices keep their wrap,
    which folds."""
    from tvm.relax.dpl import is_const, is_op, rewrite_call, wildcard

    indices = is_const()
    wrap = is_op("relax.where")(is_op("relax.less")(indices, is_const()), is_op("relax.add")(indices, wildcard()),
                                indices)

    def unwrap(call, matches):
        constant = matches[indices]
        return constant if (constant.value.numpy() >= 0).all() else call

    return rewrite_call(wrap, unwrap, main)


@contextlib.contextmanager
def _stderr_silenced():
    """File descriptor 2 to /dev/null for the block (C++ logging writes there directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def from_onnx_proto(proto, inputs: list[TensorSpec]):
    """Relax module (weights as trailing inputs) and its weights, or a one-line import error."""
    import tvm
    from tvm import relax
    from tvm.relax.frontend.onnx import from_onnx

    from sedge.frontend.importers.axes import tidy
    from sedge.frontend.onnx_ops import converters_installed

    # TVM prints "Error converting operator <op>, with inputs: <whole Relax exprs>" to stdout
    # before re-raising a converter's error: kept off the user's screen, read for the op's name
    printed = io.StringIO()
    failure = held = None
    try:
        with converters_installed(), contextlib.redirect_stdout(printed):
            mod = from_onnx(proto, shape_dict={s.name: s.shape for s in inputs},
                            dtype_dict={s.name: s.dtype for s in inputs}, keep_params_in_input=True)
    except tvm.error.OpNotImplemented as err:
        ops = str(err).split(":")[-1].strip()
        failure, held = UnsupportedOpError(ops, "see the ONNX operators of TVM's Relax frontend and sedge's "
                                                "functions in the README"), err
    except SedgeError as err:  # a converter's own one-line refusal, which names the op; a copy
        failure, held = ModelImportError(str(err)), err  # (err's traceback holds the builder)
    except Exception as err:
        failed = re.search(r"Error converting operator (\w+)", printed.getvalue())
        where = f"its {failed.group(1)} node" if failed else "the ONNX model"
        failure, held = ModelImportError(f"TVM could not import {where}: {one_line(err, last=True)}"), err
    if failure is not None:
        # the failed import's BlockBuilder, freed with the traceback, logs "BlockBuilder destroyed
        # with remaining blocks!" from C++: freed here with that line kept off stderr
        with _stderr_silenced():
            del held
            gc.collect()
        raise failure
    _require_static_shapes(mod["main"])
    mod["main"] = tidy(mod["main"])
    mod, params = relax.frontend.detach_params(mod)
    values = [p.numpy() for p in params.get("main", [])]
    # int32 / int64 initializers, ONNX's index types (a hashed layer's index map, a fixed
    # channel order), are structure, not weights (int8 / uint8 ones may be quantized weights
    # and stay weights). Bound as constants, the compiler folds the arithmetic the importer
    # puts on them (negative indices wrapped by a where) and checks the gathers they index,
    # as it does for the PyTorch import; left as weights, each gather by them compiled to
    # TVM's unchecked take and printed its warning (72 lines for wrn-40-2-hashed-0.25)
    structure = {var.name: tvm.runtime.tensor(value) for var, value in zip(mod["main"].params[len(inputs):], values)
                 if value.dtype in _INDEX_DTYPES}
    if structure:
        mod = relax.transform.BindParams("main", structure)(mod)
        mod["main"] = _drop_wraps_of_nonnegative_indices(mod["main"])
    names = [p.name for p in mod["main"].params[len(inputs):]]
    return mod, [v for v in values if v.dtype not in _INDEX_DTYPES], names


def load(path: str, input_shapes: dict) -> Model:
    import sedge.frontend.importers  # noqa: F401  registers the converters of sedge's functions
    from sedge.frontend.importers.fallback import inline_unconverted_functions
    from sedge.frontend.importers.fold_shapes import fold_static, static_shapes
    from sedge.frontend.importers.gather_indices import require_indices_in_range
    from sedge.frontend.importers.graph_inputs import separate_weights
    from sedge.frontend.importers.opset import upgrade_old_opset

    proto = separate_weights(read_onnx(path), input_shapes)
    _check_initializers(proto.graph)
    inputs = _input_specs(proto.graph, input_shapes)
    proto, notes = inline_unconverted_functions(proto)
    proto, note = upgrade_old_opset(proto)
    notes = notes + ([note] if note else [])
    shapes = static_shapes(proto, inputs)  # one shape inference, read by both
    require_indices_in_range(proto, shapes)
    proto = fold_static(proto, inputs, shapes)
    mod, params, names = from_onnx_proto(proto, inputs)
    return Model(mod, params, names, inputs, {"format": "onnx", "path": str(path), "sha256": sha256_file(path)},
                 notes)
