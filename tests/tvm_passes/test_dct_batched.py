"""The batched fast DCT (kernels/dct_batched.py): blocks of vectors across the SIMD lanes, a
real FFT of radix-4 butterflies. Numerics against scipy / PyTorch, and its TIR: O(N log N)
multiplies per transform, a butterfly pass per radix stage, no N x N product."""
import math

import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST, rel_err
from tvm import te, tirx

from sedge.tvm_passes.kernels import dct_batched as K


def _dct2(N, V, lanes=16):
    x = te.placeholder((N, V), "float32", "x")
    w, ph = te.placeholder((2, N), "float32", "w"), te.placeholder((2, N), "float32", "ph")
    return te.create_prim_func([x, w, ph, K.dct2_extern(x, N, V, lanes, w, ph)]).with_attr("tirx.is_scheduled", True)


def _run(func, inputs, out_shape):
    lib = tvm.compile(tvm.IRModule({"main": func.with_attr("global_symbol", "main")}), target=HOST)
    out = tvm.runtime.tensor(np.zeros(out_shape, np.float32))
    lib["main"](*[tvm.runtime.tensor(t) for t in inputs], out)
    return out.numpy()


@pytest.mark.parametrize("N,V", [(8, 16), (64, 20), (1024, 16), (256, 1), (32, 5)])
def test_dct2_matches_scipy(N, V):
    import scipy.fft

    x = np.random.default_rng(N + V).standard_normal((N, V)).astype(np.float32)
    got = _run(_dct2(N, V), [x, *K.tables(N)], (N, V))
    assert rel_err(got, scipy.fft.dct(x.astype(np.float64), axis=0, norm="ortho")) < 1e-5


@pytest.mark.parametrize("N,V,factors,bias", [(16, 5, 2, True), (256, 32, 3, True), (64, 1, 2, False)])
def test_stack_matches_pytorch(N, V, factors, bias):
    from sedge.frontend.layers.acdc import acdc_math

    g = np.random.default_rng(N)
    x = g.standard_normal((V, N)).astype(np.float32)
    a, d = ((1 + 0.3 * g.standard_normal((factors, N))).astype(np.float32) for _ in range(2))
    b = g.standard_normal((factors, N)).astype(np.float32)
    func = K.stack_func(N, V, factors, bias, 16, 8)
    got = _run(func, [x, a, d] + ([b] if bias else []) + K.tables(N), (V, N))
    want = acdc_math(*(torch.from_numpy(t).double() for t in (x, a, d)),
                     torch.from_numpy(b).double() if bias else None).numpy()
    assert rel_err(got, want) < 1e-5


# --- the TIR: multiplies and loops executed per transform


def _walk_stmt(stmt, extent, visit):
    """visit(value, weight) for every stored / bound value, weight = iterations of its loops."""
    if isinstance(stmt, tirx.For):
        _walk_stmt(stmt.body, extent * int(stmt.extent), visit)
    elif isinstance(stmt, tirx.SeqStmt):
        for s in stmt.seq:
            _walk_stmt(s, extent, visit)
    elif isinstance(stmt, (tirx.BufferStore, tirx.Bind)):
        visit(stmt.value, extent)
    else:
        for field in ("block", "body", "then_case", "else_case"):
            child = getattr(stmt, field, None)
            if isinstance(child, tirx.Stmt):
                _walk_stmt(child, extent, visit)


def _float_ops(expr, kinds) -> int:
    """Float multiplies (kinds = (Mul,)) or adds (Add, Sub) in an expression tree."""
    count = int(isinstance(expr, kinds) and "float" in str(expr.ty))
    for field in ("a", "b", "value", "true_value", "false_value"):
        child = getattr(expr, field, None)
        if isinstance(child, tirx.Expr) and not isinstance(child, tirx.Var):
            count += _float_ops(child, kinds)
    for arg in getattr(expr, "args", None) or []:
        count += _float_ops(arg, kinds)
    return count


def _per_vector(func, V, kinds):
    total = [0]
    _walk_stmt(func.body, 1, lambda value, weight: total.__setitem__(0, total[0] + weight * _float_ops(value, kinds)))
    return total[0] / V


def test_tir_holds_n_log_n_butterflies():
    """Per transform at most 1.5 multiplies and 2 adds per point and log2 N (a real FFT of N/2
    points in radix-8 butterflies, 7 twiddles and 2 multiplies by sqrt(1/2) each, then the
    split / twist pass: 9492 multiplies and 16916 adds at N = 1024), where a DCT matrix costs N
    per point; the counts grow as N log N (16x the points, ~21x the multiplies where N^2 would
    be 256x)."""
    V = 16
    muls, adds = {}, {}
    for N in (64, 1024):
        func = _dct2(N, V)
        muls[N] = _per_vector(func, V, (tirx.Mul,))
        adds[N] = _per_vector(func, V, (tirx.Add, tirx.Sub))
        assert muls[N] <= 1.5 * N * math.log2(N), (N, muls[N])
        assert adds[N] <= 2 * N * math.log2(N), (N, adds[N])
        assert muls[N] < N * N / 8
    assert muls[1024] / muls[64] < 1.3 * (1024 * 10) / (64 * 6)


@pytest.mark.parametrize("N", [8, 16, 64, 1024])
def test_the_dct2_counts_are_sedge_fast_dcts(N):
    """sedge/fast_dct.py counts what this TIR holds (the records and the estimates use it)."""
    from sedge.fast_dct import dct2_ops

    func = _dct2(N, 16)
    assert (_per_vector(func, 16, (tirx.Mul,)), _per_vector(func, 16, (tirx.Add, tirx.Sub))) == dct2_ops(N)


def _stack_ops(N, V, factors, bias):
    func = K.stack_func(N, V, factors, bias, 16, 8)
    return _per_vector(func, V, (tirx.Mul,)), _per_vector(func, V, (tirx.Add, tirx.Sub))


@pytest.mark.parametrize("N,V,factors,bias", [(16, 3, 2, True), (64, 5, 3, False), (1024, 16, 12, True)])
def test_the_stack_counts_are_sedge_fast_dcts(N, V, factors, bias):
    from sedge.fast_dct import stack_ops

    assert _stack_ops(N, V, factors, bias) == stack_ops(N, factors, bias)


@pytest.mark.parametrize("N,V,factors", [(16, 3, 2), (64, 5, 3)])
def test_a_factored_record_counts_the_stack_kernels_ops(N, V, factors, tmp_path):
    """The record of an ACDC layer lowered `factored` counts the multiplies (as MACs) and adds
    (the rest as adds) that the stack kernel's TIR runs, per vector times its vectors."""
    from compiled_models import imported

    from sedge.frontend.layers.acdc import ACDC
    from sedge.tvm_passes.layer_records import layer_records

    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.acdc = ACDC(N, factors, True)

        def forward(self, x):
            return self.acdc(x)

    mod, _ = imported(Linear(), torch.randn(V, N), tmp_path)
    record = next(r for r in layer_records(mod, lowering={"all": "factored"}) if r.op == "acdc")
    muls, adds = _stack_ops(N, V, factors, bool(record.attrs["bias"]))
    assert (record.macs, record.adds) == (V * muls, V * (adds - muls))
    assert record.attrs["kernel"] == "dct_batched"


def test_tir_runs_one_butterfly_pass_per_radix_stage():
    """The FFT's loops: one pass of N/2/r butterflies per radix-r stage (radix 8, one radix 2
    or 4 first where log2(N/2) is no multiple of 3), every butterfly a vector of the block's
    vectors."""
    N, V = 1024, 16
    assert K.radices(N // 2) == [8, 8, 8] and K.radices(2048) == [4, 8, 8, 8] and K.radices(128) == [2, 8, 8]
    script = _dct2(N, V).script()
    # 3 butterfly passes (the first reading the input through Makhoul's reorder and the
    # pairing, its butterflies in pairs: two loops) and the split / twist pass, each
    # vectorised over the block's 16 vectors; no gather pass of its own
    assert script.count("T.vectorized(16)") == 2 + 2 + 1
    assert "if_then_else" not in script.split("T.vectorized")[1]  # no select in the fused gather
    assert "T.parallel" not in script  # one block: no thread launch
    assert "T.parallel(4)" in _dct2(64, 64).script()  # 4 blocks of 16 vectors, in parallel
    assert "T.init" not in script and "T.axis.reduce" not in script
