"""sedge's legalizations: a take by constant indices is checked at compile time and becomes
a gather kernel without TVM's out-of-bounds warning; any other take stays TVM's."""
import numpy as np
import pytest
from compiled_models import HOST, one_op_model, run_compiled
from tvm import relax

from sedge.errors import SedgeError

X = np.random.default_rng(0).standard_normal((2, 3, 4, 10), dtype=np.float32)


@pytest.mark.parametrize("indices, axis", [([9, 0, 4, 4], 3), ([[2, 0], [1, 1]], 1), ([3], -1)])
def test_a_constant_index_take_is_a_gather_without_a_warning(indices, axis, capfd):
    index = np.asarray(indices, dtype=np.int64)
    got = run_compiled(one_op_model(lambda x: relax.op.take(x, relax.const(index), axis=axis), X.shape), HOST, [X])
    np.testing.assert_array_equal(got, np.take(X, index, axis=axis))
    assert "Fast mode" not in capfd.readouterr().err  # TVM's warning comes from C++, on stderr


def test_a_constant_index_outside_its_axis_is_a_one_line_error():
    model = one_op_model(lambda x: relax.op.take(x, relax.const(np.array([0, 10], dtype=np.int64)), axis=3), X.shape)
    with pytest.raises(SedgeError, match=r"^a take along axis 3 reads index 10, but that axis has 10 elements; "
                                         r"constant indices must lie in 0..9$"):
        run_compiled(model, HOST, [X])


def test_a_take_by_run_time_indices_stays_tvms(capfd):
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(X.shape, "float32"))
    idx = relax.Var("idx", relax.TensorType((2,), "int64"))
    with bb.function("main", [x, idx]):
        with bb.dataflow():
            out = bb.emit_output(relax.op.take(x, idx, axis=3))
        bb.emit_func_output(out)
    index = np.array([7, 1], dtype=np.int64)
    got = run_compiled(bb.get(), HOST, [X, index])
    np.testing.assert_array_equal(got, np.take(X, index, axis=3))
    assert "Fast mode" in capfd.readouterr().err  # TVM's unchecked take, which says so
