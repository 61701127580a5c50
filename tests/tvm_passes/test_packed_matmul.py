"""Matmul right operands packed per output-column tile (packed_matmul.py): the packing of a
weight runs at load time, the transpose the importer put before it is gone, columns that
tile badly are padded and sliced off, and every form computes what numpy computes."""
import numpy as np
import pytest
import tvm
from tvm import relax

from sedge.tvm_passes.passes.packed_matmul import pack_matmul_weights
from sedge.tvm_passes.pipeline import sedge_pipeline
from sedge.tvm_passes.target import host_target

TARGET = tvm.target.Target(host_target())


def _matmul(x_shape, w_shape, transposed=False, weight=True, bias=False):
    """main(x, w[, b]) = x @ w (w transposed first when `transposed`), w a weight (a
    parameter after num_input) or a second input."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(x_shape, "float32"))
    w = relax.Var("w", relax.TensorType(w_shape, "float32"))
    params = [x, w]
    if bias:
        b = relax.Var("b", relax.TensorType((w_shape[-2] if transposed else w_shape[-1],), "float32"))
        params.append(b)
    with bb.function("main", params, {"num_input": 1 if weight else 2}):
        with bb.dataflow():
            right = w
            if transposed:
                axes = list(range(len(w_shape) - 2)) + [len(w_shape) - 1, len(w_shape) - 2]
                right = bb.emit(relax.op.permute_dims(w, axes))
            out = relax.op.matmul(x, right)
            if bias:
                out = relax.op.add(bb.emit(out), b)
            out = bb.emit_output(out)
        bb.emit_func_output(out)
    return bb.get()


def _rewritten(mod):
    with TARGET:
        return relax.transform.LiftTransformParams()(pack_matmul_weights(TARGET)(mod))


def test_a_linear_weight_is_packed_once_at_load_time_and_its_transpose_is_gone():
    mod = _rewritten(_matmul((37, 96), (256, 96), transposed=True))
    main, load_time = mod["main"].script(), mod["main_transform_params"].script()
    assert "R.matmul" not in main and "matmul" in main, "the matmul reads packed weights"
    assert "permute_dims" not in main and "permute_dims" not in load_time, "read through, not transposed"
    assert "layout_transform" not in main and "layout_transform" in load_time
    packed = mod["main"].params[1]
    assert len(packed.ty.shape) == 3 and int(packed.ty.shape[0]) > 1, "(N/nb, K, nb) with several tiles"


def test_a_matmul_whose_columns_fit_one_tile_is_left_alone():
    mod = _matmul((20, 32), (32, 16))
    tvm.ir.assert_structural_equal(pack_matmul_weights(TARGET)(mod), mod)


def test_padded_columns_are_sliced_off_and_a_second_input_is_packed_per_inference():
    mod = _rewritten(_matmul((2, 3, 29, 8), (2, 3, 29, 8), transposed=True, weight=False))
    main = mod["main"].script()
    assert "R.strided_slice" in main and "layout_transform" in main, main


@pytest.mark.parametrize("x_shape, w_shape, transposed, weight, bias", [
    ((37, 96), (256, 96), True, True, True),  # Gemm with transB: a Linear on 2-D input
    ((1, 45, 64), (64, 200), False, True, True),  # a 3-D Linear exported as MatMul + Add
    ((45, 1, 64), (64, 96), False, True, False),  # a unit axis between rows and columns
    ((1, 100), (100, 1000), False, True, True),  # 1000 classes: 8-lane vectors, padded to 16
    ((1, 4, 29, 16), (1, 4, 29, 16), True, False, False),  # attention scores, 29 x 29 per head
    ((1, 4, 29, 29), (1, 4, 29, 48), False, False, False),  # attention x V
])
def test_packed_matmuls_compute_what_numpy_computes(x_shape, w_shape, transposed, weight, bias):
    mod = _matmul(x_shape, w_shape, transposed, weight, bias)
    with tvm.transform.PassContext(opt_level=3):
        lowered = sedge_pipeline(TARGET)(mod)
        executable = tvm.compile(lowered, TARGET, relax_pipeline=None)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = rng.standard_normal(w_shape, dtype=np.float32)
    columns = w_shape[-2] if transposed else w_shape[-1]
    b = rng.standard_normal((columns,), dtype=np.float32)
    want = x @ (np.swapaxes(w, -1, -2) if transposed else w) + (b if bias else 0)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(w)] + ([tvm.runtime.tensor(b)] if bias else [])
    if weight and vm.module.implements_function("main_transform_params"):
        params = list(vm["main_transform_params"](params))
    got = vm["main"](tvm.runtime.tensor(x), *params).numpy()
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))
