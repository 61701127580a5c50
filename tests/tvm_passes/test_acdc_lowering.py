"""LowerACDC: each ACDC stack folded into one dense 1x1 conv / matmul where the cost model
(acdc_cost.acdc_choice) says so, SECL's channel repeat and group sum included; the choice
and its reason in the layer's record."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST, PreActivation, imported, permutes, rel_err, run_compiled, through_lift_params
from tvm import relax

from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.acdc import ACDC, SECLConv2d
from sedge.tvm_passes.acdc_cost import acdc_choice
from sedge.tvm_passes.layer_records import layer_records
from sedge.tvm_passes.lowering import choose_lowering, with_overrides
from sedge.tvm_passes.passes.acdc import FOLD_KERNEL, fold_numpy

RTOL = 1e-4


def _randomised(layer):
    """Diagonals far from 1 and non-zero biases: a fold that drops a term shows."""
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if name.endswith("a") or name.endswith("d"):
                p.copy_(1 + 0.5 * torch.randn_like(p))
            elif "bias" in name:
                p.normal_()
    return layer


class _Linear(torch.nn.Module):
    """A plain ACDC linear layer (2-D input): the stack on the features."""

    def __init__(self, N, factors, bias):
        super().__init__()
        self.acdc = ACDC(N, factors, bias)

    def forward(self, x):
        return self.acdc(x)


def test_fold_numpy_is_the_stack():
    layer = _randomised(ACDC(10, factors=5, bias=True)).double().eval()
    W, b = fold_numpy(layer.a.detach().numpy(), layer.d.detach().numpy(), layer.bias.detach().numpy())
    x = torch.randn(3, 10, dtype=torch.float64)
    assert np.allclose(x.numpy() @ W + b, layer(x).detach().numpy())


# C, O, factors, bias, stride
SECL = [
    (16, 16, 12, False, 1),   # square, SECL's 12 factors
    (16, 32, 3, True, 2),     # O > C: channels tiled (wrn's widening), stride 2
    (6, 14, 2, True, 1),      # O > C, C not dividing O: first channel appended, then tiled
    (32, 16, 4, True, 1),     # O < C: groups of 2 summed
    (8, 4, 1, False, 1),      # O < C, one factor
]


@pytest.mark.parametrize("C,O,factors,bias,stride", SECL)
def test_secl_numerics_against_pytorch(C, O, factors, bias, stride, tmp_path):
    layer = _randomised(SECLConv2d(C, O, 3, stride, 1, factors=factors, bias=bias))
    x = torch.randn(2, C, 9, 7)
    mod, params = imported(layer, x, tmp_path)
    got = run_compiled(mod, HOST, [x.numpy()], params)
    want = layer.eval()(x).detach().numpy()
    assert got.shape == want.shape
    assert rel_err(got, want) < RTOL


@pytest.mark.parametrize("N,factors,bias", [(8, 1, False), (64, 12, True), (130, 3, True)])
def test_linear_numerics_against_pytorch(N, factors, bias, tmp_path):
    layer = _randomised(_Linear(N, factors, bias))
    x = torch.randn(5, N)
    mod, params = imported(layer, x, tmp_path)
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer.eval()(x).detach().numpy()) < RTOL


def _calls(func):
    return [b.value for block in func.body.blocks for b in block.bindings if isinstance(b.value, relax.Call)]


def test_a_folded_layer_is_one_dense_conv(tmp_path, monkeypatch):
    """Structural / absence: per inference one 1x1 conv and no matmul (no DCT matrix, no
    per-factor product); the fold kernel runs once, at load time."""
    import sedge.tvm_passes.passes.acdc as lowering

    monkeypatch.setattr(lowering, "FAST_FOLD_MIN_N", 2)  # the large-N load-time fold, on a small layer
    layer = _randomised(SECLConv2d(16, 32, 3, 1, 1, factors=12, bias=True))
    mod, _ = imported(layer, torch.randn(1, 16, 8, 8), tmp_path)
    mod = through_lift_params(mod, HOST)
    assert not any(OP_ATTR in (f.attrs or {}) for f in mod.functions.values() if isinstance(f, relax.Function))
    ops = [c.op.name for c in _calls(mod["main"]) if isinstance(c.op, tvm.ir.Op)]
    assert ops.count("relax.nn.conv2d") == 2, ops  # the depthwise conv and the folded 1x1
    assert "relax.matmul" not in ops
    # no constant of N x N (a DCT matrix) is left in what runs per inference
    assert "metadata" not in mod["main"].script()
    assert FOLD_KERNEL in mod["main_transform_params"].script()
    assert FOLD_KERNEL not in mod["main"].script()
    # the load-time fold through the fast DCT in float64: no N x N matrix
    assert "(32, 32)" not in mod.script()


def test_the_ops_after_a_folded_layer_stay_channels_last(tmp_path):
    """The fold reads through the importer's permute to channels-last: the batch-norm and
    ReLU between two folded layers run NHWC, with no transpose of the activations between
    the model's input and its output (wrn-40-2-acdc had two around each such op)."""
    layer = _randomised(PreActivation(SECLConv2d(8, 16, 3, 1, 1, factors=2), SECLConv2d(16, 16, 3, 1, 1, factors=2),
                                      16)).eval()
    x = torch.randn(1, 8, 6, 6)
    mod, params = imported(layer, x, tmp_path)
    # lift-params has moved the weights' permutes to load time: these are the activations'
    main = through_lift_params(mod, HOST)["main"]
    assert [[int(a) for a in c.attrs.axes] for c in permutes(main)] == [[0, 2, 3, 1], [0, 3, 1, 2]]
    got = run_compiled(mod, HOST, [x.numpy()], params)
    want = layer(x).detach().numpy()
    assert rel_err(got, want) <= RTOL


def test_a_folded_layer_compiles_to_a_single_dense_kernel(tmp_path):
    """TIR: of the kernels main runs, exactly one reduces over the channels (the folded 1x1
    conv) besides the depthwise conv; there is no N x N matmul."""
    from compiled_models import scheduled_kernels

    layer = _randomised(SECLConv2d(16, 16, 3, 1, 1, factors=12, bias=False))
    mod, _ = imported(layer, torch.randn(1, 16, 8, 8), tmp_path)
    kernels = scheduled_kernels(mod, HOST)
    names = [n for n in kernels if n != FOLD_KERNEL and "transform" not in n]
    assert not any("matmul" in n for n in names), names
    convs = [n for n in names if "conv2d" in n]
    assert len(convs) == 2, names  # depthwise + folded pointwise
    assert FOLD_KERNEL in kernels  # load-time only


def test_the_choice_is_recorded(tmp_path):
    layer = SECLConv2d(16, 16, 3, 1, 1, factors=12)
    mod, _ = imported(layer, torch.randn(1, 16, 8, 8), tmp_path)
    record = [r for r in layer_records(mod) if r.op == "acdc"][0]
    assert record.attrs["lowering"] == "fold"
    assert record.attrs["lowering_reason"].startswith("fold: ~")
    assert [o["name"] for o in record.attrs["lowering_options"]] == ["fold", "factored"]
    # the record counts the folded layer: one dense 16 x 16 matrix per pixel
    assert record.macs == 8 * 8 * 16 * 16 and record.weight_bytes == (16 * 16 + 16) * 4


def test_choice_crossover():
    # the factored form as the generic body (2 N^2 MACs per factor: GPUs, N no power of two) never wins
    for N in (8, 64, 512, 4096, 16384):
        assert acdc_choice(N, 12, 64, factored_kernel="generic")[0] == "fold"
    assert acdc_choice(6000, 12, 64)[0] == "fold"  # no radix-2 fast DCT for N = 6000
    # the choices measured on this host (docs/acdc.md), 12 factors: fold at N = 256, factored from
    # 1024 on, at 64 vectors (the batched kernel's blocks fill the lanes) and at one
    assert acdc_choice(256, 12, 64)[0] == acdc_choice(256, 12, 1)[0] == "fold"
    for N in (1024, 2048, 4096):
        assert acdc_choice(N, 12, 64)[0] == acdc_choice(N, 12, 1)[0] == "factored"
    # with a fast DCT (4N + 5N log2 N per factor): fold below the crossover, factored above
    def fast(N, vectors=64, factors=12):
        return acdc_choice(N, factors, vectors, factored_kernel="fast_dct")[0]

    assert fast(128) == fast(512) == "fold"
    assert fast(8192) == "factored"
    crossover = next(N for N in range(2, 20000, 2) if fast(N) == "factored")
    assert 600 <= crossover <= 4096, crossover  # MACs alone cross near 600 (methods.md §2)
    # fewer factors cross earlier; batch 1 (the weights read per vector, the lanes empty) below 1024 too
    assert next(N for N in range(2, 20000, 2) if fast(N, factors=2) == "factored") < crossover
    assert next(N for N in range(2, 20000, 2) if fast(N, vectors=1) == "factored") < 1024


def test_gpu_target_keeps_a_matmul(tmp_path):
    """Non-CPU targets get the folded layer as a matmul (no NHWC conv for the GPU rules)."""
    cuda = tvm.target.Target({"kind": "cuda", "arch": "sm_90", "host": {"kind": "llvm"}})
    from sedge.tvm_passes.passes.acdc import acdc_lowering

    layer = _randomised(_Linear(16, 3, True))
    mod, _ = imported(layer, torch.randn(2, 16), tmp_path)
    with cuda:
        mod = acdc_lowering(cuda)(choose_lowering(cuda)(mod))
    ops = [c.op.name for c in _calls(mod["main"]) if isinstance(c.op, tvm.ir.Op)]
    assert "relax.matmul" in ops
    assert not any(OP_ATTR in (f.attrs or {}) for f in mod.functions.values() if isinstance(f, relax.Function))


# --- the fast DCT kernel (kernels/dct.py): the `factored` form

DCT_RTOL = 2e-6  # float32 butterflies, log2 N stages: measured <= 2e-7 (DCT), ~1e-6 (12-factor stack)


def _dct_kernels(N, V, factors=None):
    from tvm import te

    from sedge.tvm_passes.kernels import dct as K

    x = te.placeholder((N, V) if factors is None else (V, N), "float32", "x")
    tw, twi = (te.placeholder((2, N // 2), "float32", n) for n in ("tw", "twi"))
    ph = te.placeholder((2, N), "float32", "ph")
    tables = [K.twiddles(N, -1), K.twiddles(N, 1), K.makhoul_phases(N)]
    if factors is None:
        outs = [K.dct2(x, tw, ph, N, V), K.dct3(x, twi, ph, N, V)]
        func = te.create_prim_func([x, tw, twi, ph, *outs])
        return func, tables, 2
    a, d, b = (te.placeholder((factors, N), "float32", n) for n in "adb")
    func = te.create_prim_func([x, a, d, b, tw, twi, ph, K.acdc_stack(x, a, d, b, tw, twi, ph, N, V)])
    return func, tables, 1


def _scheduled(func):
    from sedge.tvm_passes.kernels.dct import schedule_dct

    sch = tvm.s_tir.Schedule(func)
    schedule_dct(sch, 16)
    return sch.mod["main"].with_attr("tirx.is_scheduled", True)


@pytest.mark.parametrize("N,V", [(2, 3), (8, 16), (64, 5), (256, 32), (1024, 16)])
def test_fast_dct_matches_scipy(N, V):
    import scipy.fft

    func, tables, n_out = _dct_kernels(N, V)
    lib = tvm.compile(tvm.IRModule({"main": _scheduled(func)}), target=HOST)
    x = np.random.default_rng(N).standard_normal((N, V)).astype(np.float32)
    outs = [tvm.runtime.tensor(np.zeros((N, V), np.float32)) for _ in range(n_out)]
    lib["main"](*[tvm.runtime.tensor(t) for t in (x, *tables)], *outs)
    for got, want in zip(outs, (scipy.fft.dct(x.astype(np.float64), norm="ortho", axis=0),
                                scipy.fft.idct(x.astype(np.float64), norm="ortho", axis=0))):
        assert rel_err(got.numpy(), want) < DCT_RTOL


@pytest.mark.parametrize("N,V,factors", [(16, 8, 2), (128, 20, 12), (512, 1, 3)])
def test_fast_acdc_stack_matches_pytorch(N, V, factors):
    from sedge.frontend.layers.acdc import acdc_math

    func, tables, _ = _dct_kernels(N, V, factors)
    lib = tvm.compile(tvm.IRModule({"main": _scheduled(func)}), target=HOST)
    g = np.random.default_rng(factors)
    x = g.standard_normal((V, N)).astype(np.float32)
    a, d = ((1 + 0.3 * g.standard_normal((factors, N))).astype(np.float32) for _ in range(2))
    b = g.standard_normal((factors, N)).astype(np.float32)
    out = tvm.runtime.tensor(np.zeros((V, N), np.float32))
    lib["main"](*[tvm.runtime.tensor(t) for t in (x, a, d, b, *tables)], out)
    want = acdc_math(*(torch.from_numpy(t).double() for t in (x, a, d, b))).numpy()
    assert rel_err(out.numpy(), want) < 1e-5


def test_fast_acdc_stack_has_no_matmul():
    """Absence: the stack kernel's TIR reduces nothing (no N x N product, no DCT matrix):
    butterflies only, log2 N passes per transform."""
    N, factors = 64, 3
    func = _scheduled(_dct_kernels(N, 4, factors)[0])
    import re

    script = func.script()
    blocks = re.findall(r'T\.sblock\("([^"]+)"\)', script)
    assert blocks and "T.init" not in script and "T.axis.reduce" not in script and '"R' not in script
    # 2 transforms x log2(64) passes, re and im each a block
    assert sum("_fft" in b for b in set(blocks)) == factors * 2 * 6 * 2
    # no N x N buffer: inputs, tables and passes are (N, V), (V, N), (L, N) or (2, N[/2])
    assert not re.search(rf"T\.Buffer\(\({N}, {N}\)", script) and f"({N}, {N})" not in script


@pytest.mark.parametrize("N,factors,bias,vectors", [(64, 3, True, 5), (16, 12, False, 32)])
def test_a_factored_layer_runs_the_fast_dct(N, factors, bias, vectors, tmp_path):
    """A layer chosen `factored` (forced here, as `--lowering all=factored`: the cost model
    takes it from N ~ 800 on) runs the fast DCT kernel: numerics against PyTorch, no
    matmul / no N x N constant left, and the kernel's TIR is butterfly passes."""
    layer = _randomised(_Linear(N, factors, bias))
    x = torch.randn(vectors, N)
    mod, params = imported(layer, x, tmp_path)
    mod = with_overrides(mod, {"all": "factored"})
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer.eval()(x).detach().numpy()) < RTOL
    from sedge.tvm_passes.passes.acdc import DCT_KERNEL

    rewritten = through_lift_params(mod, HOST)
    main = rewritten["main"].script()
    assert DCT_KERNEL in main and "R.matmul" not in main
    assert f"({N}, {N})" not in rewritten.script(), "no N x N DCT matrix anywhere"
    # the batched kernel's butterflies (kernels/dct_batched.py), vectorised over the block's
    # vectors: per factor 2 FFTs of one pass per radix stage and the fused split / D /
    # inverse-split pass, the gathers (8 residues each) fused into the forward FFT's first
    # pass (its butterflies in pairs: two loops) where it has an even count of them (N = 64),
    # a pass of their own where not (N = 16: one radix-8 butterfly); the output's gather last
    from sedge.tvm_passes.kernels.dct_batched import radices

    kernel = next(f for gv, f in rewritten.functions.items() if gv.name_hint == DCT_KERNEL).script()
    stages = len(radices(N // 2))
    per_factor = 2 * stages + 2 if N == 64 else 2 * stages + 1 + 8
    assert kernel.count(f"T.vectorized({min(vectors, 16)})") == factors * per_factor + 8
    assert "T.axis.reduce" not in kernel and "T.init" not in kernel


@pytest.mark.parametrize("C,O,factors,bias", [(16, 32, 12, True), (32, 16, 4, True)])
def test_fast_fold_numerics_against_pytorch(C, O, factors, bias, tmp_path, monkeypatch):
    """The load-time fold through the float64 fast DCT (large N; forced on small layers here)."""
    import sedge.tvm_passes.passes.acdc as lowering

    monkeypatch.setattr(lowering, "FAST_FOLD_MIN_N", 2)
    layer = _randomised(SECLConv2d(C, O, 3, 1, 1, factors=factors, bias=bias))
    x = torch.randn(2, C, 6, 5)
    mod, params = imported(layer, x, tmp_path)
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer.eval()(x).detach().numpy()) < RTOL
