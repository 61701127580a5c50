"""The band-limited conv's FFT kernels: the pruned mixed-radix programs (kernels/fft_program.py)
against numpy's FFT, and the four TIR passes of the `fft` lowering (kernels/fft_conv.py) as
butterflies, with no DFT matmul left, on the CPU and, built without a GPU, for CUDA."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST, imported
from hypothesis import given, settings
from hypothesis import strategies as st
from tvm import relax, tirx

import sedge
from sedge.frontend.layers.fft import BandLimitedConv2d, fft_geometry, rate_index
from sedge.tvm_passes.fft_cost import band_axes
from sedge.tvm_passes.kernels import fft_program
from sedge.tvm_passes.kernels.fft_program import Program
from sedge.tvm_passes.passes.fft_conv import fft_conv_lowering
from sedge.tvm_passes.pipeline import phases


def evaluate(prog: Program, outputs, env: dict) -> np.ndarray:
    """The program's complex outputs on the inputs env {key: float64 array}."""
    values = {}
    for v in prog.live([part for pair in outputs for part in pair]):
        node = prog.nodes[v]
        if node.op == "in":
            values[v] = env[node.args[0]]
        elif node.op == "mul":
            values[v] = values[node.args[0]] * node.args[1]
        elif node.op == "neg":
            values[v] = -values[node.args[0]]
        else:
            a, b = values[node.args[0]], values[node.args[1]]
            values[v] = a + b if node.op == "add" else a - b
    zero = np.zeros_like(next(iter(env.values())))
    return np.array([(zero if r is None else values[r]) + 1j * (zero if i is None else values[i])
                     for r, i in outputs])


# radix 2 / 4 chains, the direct odd primes, Rader's primes (17: 16, 29: 28, 113: 112 = 4 x 28),
# and the zoo's composite sizes (15, 33, 57, 65)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 11, 12, 13, 15, 16, 17, 18, 29, 33, 57, 65, 113])
@pytest.mark.parametrize("sign", [-1, 1])
def test_the_program_is_the_dft(n, sign):
    rng = np.random.default_rng(n)
    prog = Program()
    x = [(prog.input(("re", j)), prog.input(("im", j))) for j in range(n)]
    out = prog.dft(x, sign)
    re, im = rng.standard_normal((2, n, 3))
    env = {("re", j): re[j] for j in range(n)} | {("im", j): im[j] for j in range(n)}
    z = re + 1j * im
    want = np.fft.fft(z, axis=0) if sign < 0 else np.fft.ifft(z, axis=0) * n
    assert np.abs(evaluate(prog, out, env) - want).max() < 1e-12 * n


@pytest.mark.parametrize("n,direct_share", [(17, 0.45), (65, 0.16), (113, 0.15)])
def test_butterflies_cost_a_fraction_of_the_dft(n, direct_share):
    """A full complex DFT of length n by the program: its multiplies are a small share of the
    direct DFT's 4 n^2 (and it adds fewer than the direct 4 n^2 too)."""
    prog = Program()
    out = prog.dft([(prog.input(("re", j)), prog.input(("im", j))) for j in range(n)])
    counts = prog.counts([part for pair in out for part in pair])
    assert counts["muls"] < direct_share * 4 * n * n and counts["adds"] < 4 * n * n, counts


@settings(max_examples=25, deadline=None)
@given(n_in=st.integers(1, 40), padding=st.integers(0, 2), rate=st.sampled_from([0, 30, 50, 80]),
       stride=st.integers(1, 2))
def test_the_pruned_passes_are_the_band_limited_transforms(n_in, padding, rate, stride):
    """Each pass against numpy's FFT on the padded axis: forward from the nonzero input to the
    band, inverse from the band to the strided outputs (the Hermitian c2r for the last one)."""
    n_fft = fft_geometry(n_in, n_in, 3, padding)[0]
    if n_in + 2 * padding < 3:
        return
    index = rate_index(n_fft, rate) if rate else -1
    rows, cols = band_axes(n_fft, n_fft, index)
    if not len(cols):
        return
    n_out = (n_in + 2 * padding - 3) // stride + 1
    outputs = list(range(0, n_out * stride, stride))
    rng = np.random.default_rng(n_in)
    x = rng.standard_normal((n_in, 2)) @ np.array([1, 1j])
    padded = np.zeros(n_fft, complex)
    padded[padding:padding + n_in] = x
    spectrum = np.fft.fft(padded)

    prog, out = fft_program.forward_w(n_fft, n_in, padding, len(cols))
    got = evaluate(prog, out, {("x", w): x[w].real for w in range(n_in)})
    assert np.abs(got - np.fft.rfft(padded.real)[:len(cols)]).max() < 1e-10
    prog, out = fft_program.forward_h(n_fft, n_in, padding, tuple(int(r) for r in rows))
    got = evaluate(prog, out, {(p, h): getattr(x[h], "real" if p == "re" else "imag") for h in range(n_in)
                               for p in ("re", "im")})
    assert np.abs(got - spectrum[rows]).max() < 1e-10
    band = np.zeros(n_fft, complex)
    band[rows] = spectrum[rows]
    prog, out = fft_program.inverse_h(n_fft, tuple(int(r) for r in rows), tuple(outputs))
    got = evaluate(prog, out, {(p, i): getattr(spectrum[r], "real" if p == "re" else "imag")
                               for i, r in enumerate(rows) for p in ("re", "im")})
    assert np.abs(got - np.fft.ifft(band)[outputs] * n_fft).max() < 1e-10
    one_sided = np.fft.rfft(padded.real)[:len(cols)]
    prog, out = fft_program.inverse_w(n_fft, len(cols), tuple(outputs))
    got = evaluate(prog, out, {(p, k): getattr(one_sided[k], "real" if p == "re" else "imag")
                               for k in range(len(cols)) for p in ("re", "im")})
    want = np.fft.irfft(np.pad(one_sided, (0, n_fft // 2 + 1 - len(cols))), n_fft)[outputs] * n_fft
    assert np.abs(got.real - want).max() < 1e-10


def _layer(C, O, H, stride=1, rate=50):
    torch.manual_seed(0)
    return BandLimitedConv2d(C, O, 3, stride, 1, compress_rate=rate, bias=True).eval(), torch.randn(1, C, H, H)


def _after_rewrite(mod, target):
    with target, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(target).items():
            mod = tvm.transform.Sequential(passes)(mod)
            if name == "lift-params":
                return mod


def _float_multiplies(stmt) -> int:
    """Float multiplies stored by the kernel's statements, once each (a negation, which TVM
    writes as a multiply by -1, is no multiply)."""
    if isinstance(stmt, tirx.SeqStmt):
        return sum(_float_multiplies(s) for s in stmt.seq)
    if isinstance(stmt, tirx.BufferStore):
        return _multiplies_in(stmt.value)
    children = (getattr(stmt, f, None) for f in ("body", "block"))
    return sum(_float_multiplies(child) for child in children if isinstance(child, tirx.Stmt))


def _multiplies_in(expr) -> int:
    count = 0
    if isinstance(expr, tirx.Mul) and "float" in str(expr.ty):
        count = int(not any(isinstance(e, tirx.FloatImm) and e.value == -1.0 for e in (expr.a, expr.b)))
    return count + sum(_multiplies_in(getattr(expr, f)) for f in ("a", "b")
                       if isinstance(getattr(expr, f, None), tirx.Expr))


def test_the_fft_lowering_runs_butterflies_and_no_dft_matmul(tmp_path):
    """`fft` on a resnet56-like layer (Hf = 33 = 3 x 11): per inference, four FFT kernels and
    one matmul, the channel mixing over the kept band; no operand of any matmul spans a
    transform axis (a DFT matrix: Hf, H or the band's rows); each kernel's TIR holds exactly
    the multiplies of its pruned program (butterflies), fewer than the pruned DFT's."""
    C, O, H = 16, 16, 16
    layer, x = _layer(C, O, H)
    mod = _after_rewrite(fft_conv_lowering(HOST, "fft")(imported(layer, x, tmp_path)[0]), HOST)
    hf, wf = fft_geometry(H, H, 3, 1)
    rows, cols = band_axes(hf, wf, rate_index(wf, 50))
    rows, kept = tuple(int(r) for r in rows), len(rows) * len(cols)
    matmuls, calls = [], []

    def visit(expr):
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op):
            if expr.op.name == "relax.matmul":
                matmuls.append(tuple(tuple(int(d) for d in a.ty.shape) for a in expr.args))
            if expr.op.name == "relax.call_tir":
                calls.append(expr.args[0].name_hint)
    relax.analysis.post_order_visit(mod["main"].body, visit)
    assert matmuls == [((kept, 2, C), (kept, C, 2 * O))], matmuls
    assert [c for c in calls if c.startswith("fft_")] == ["fft_forward_w", "fft_forward_h", "fft_inverse_h",
                                                          "fft_inverse_w"], calls
    funcs = {gv.name_hint: f for gv, f in mod.functions.items() if isinstance(f, tirx.PrimFunc)}
    programs = {"fft_forward_w": fft_program.forward_w(wf, H, 1, len(cols)),
                "fft_forward_h": fft_program.forward_h(hf, H, 1, rows),
                "fft_inverse_h": fft_program.inverse_h(hf, rows, tuple(range(H))),
                "fft_inverse_w": fft_program.inverse_w(wf, len(cols), tuple(range(H)))}
    pruned_dft = {"fft_forward_w": H * len(cols) * 2, "fft_forward_h": H * len(rows) * 4,
                  "fft_inverse_h": len(rows) * H * 4, "fft_inverse_w": len(cols) * H * 2}
    for name, (prog, out) in programs.items():
        muls = prog.counts([part for pair in out for part in pair])["muls"]
        assert _float_multiplies(funcs[name].body) == muls < pruned_dft[name], name


def test_cuda_builds_the_fft_kernels_without_a_gpu(tmp_path):
    """Every FFT conv forced `fft` builds for sm_90: the four kernels on blocks and threads."""
    out = tmp_path / "cuda.tar"
    package = sedge.compile(sedge.load("zoo:resnet8-fft-50"), sedge.CompileOptions(
        target="cuda -arch=sm_90", output=str(out), dump_code=["tir"], lowering={"all": "fft"}))
    layers = [r for r in package.metadata.layers if r.op == "fft_conv"]
    assert layers and all(r.attrs["lowering"] == "fft" for r in layers)
    tir = (tmp_path / "cuda.tar.tir").read_text()
    assert "fft_forward_w" in tir and "fft_inverse_w" in tir and "threadIdx.x" in tir
    assert not package.metadata.build["unscheduled_kernels"]
