"""LowerFFTConv: band-limited FFT convolutions as a band projection of the input + the dense
conv (`project`), a pruned-DFT frequency-domain conv (`fft`) or one folded matrix
(`spatial`), chosen per layer by fft_cost.fft_conv_choice; all against PyTorch."""
import numpy as np
import pytest
import torch
import tvm
from compiled_models import HOST, PreActivation, imported, permutes, rel_err, run_compiled, through_lift_params
from tvm import relax

from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.fft import BandLimitedConv2d, fft_conv_math, fft_geometry, rate_index
from sedge.tvm_passes.fft_cost import OPTIONS, band_axes, fft_conv_choice, fft_conv_costs
from sedge.tvm_passes.passes.fft_conv import fft_conv_lowering, projection_matrix
from sedge.tvm_passes.pipeline import phases

RTOL = 1e-4


def _layer(C, O, stride, padding, rate, bias=True):
    torch.manual_seed(0)
    layer = BandLimitedConv2d(C, O, 3, stride, padding, compress_rate=rate, bias=bias).eval()
    if bias:
        with torch.no_grad():
            layer.bias.normal_()
    return layer


def _compiled(layer, x, tmp_path, choice):
    mod, params = imported(layer, x, tmp_path)
    if choice is not None:
        mod = fft_conv_lowering(HOST, choice)(mod)
    return run_compiled(mod, HOST, [x.numpy()], params)


def test_projection_is_the_band_limited_conv_in_float64():
    """The identity the `project` lowering stands on: irfft2(mask X conj(W)) cropped equals
    the plain conv of (A x B^T), A and B the band's per-axis projections."""
    torch.manual_seed(1)
    for H, stride, padding, rate in [(9, 1, 1, 50), (8, 2, 0, 30), (7, 1, 1, 0)]:
        x, w = torch.randn(2, 3, H, H, dtype=torch.float64), torch.randn(4, 3, 3, 3, dtype=torch.float64)
        hf, wf = fft_geometry(H, H, 3, padding)
        index = rate_index(wf, rate) if rate else -1
        want = fft_conv_math(x, w, None, stride, padding, index)
        a = projection_matrix(hf, index, H + 2 * padding, H, padding)
        b = projection_matrix(wf, index, H + 2 * padding, H, padding)
        z = torch.tensor(np.einsum("ih,bchw,jw->bcij", a, x.numpy(), b))
        got = torch.nn.functional.conv2d(z, w, stride=stride)
        assert float((got - want).abs().max() / want.abs().max()) < 1e-12


# batch, C, O, H, stride, padding, rate (idx from the rate; 0: idx -1, everything kept), bias
CASES = [
    (1, 16, 16, 16, 1, 1, 50, True),    # a resnet56 layer, smaller
    (2, 5, 7, 9, 2, 1, 50, True),       # batch 2, C != O, stride 2, odd size
    (1, 4, 6, 8, 1, 0, 50, False),      # no padding, no bias
    (2, 3, 3, 7, 2, 0, 0, True),        # idx -1: the whole spectrum
    (1, 6, 5, 2, 1, 1, 50, True),       # a 2 x 2 image
]


@pytest.mark.parametrize("choice", ["project", "fft"])
@pytest.mark.parametrize("batch,C,O,H,stride,padding,rate,bias", CASES)
def test_lowerings_match_pytorch(tmp_path, choice, batch, C, O, H, stride, padding, rate, bias):
    layer = _layer(C, O, stride, padding, rate, bias)
    x = torch.randn(batch, C, H, H)
    with torch.no_grad():
        want = layer(x).numpy()
    assert rel_err(_compiled(layer, x, tmp_path, choice), want) < RTOL


@pytest.mark.parametrize("batch,C,O,H,stride,padding,rate,bias", [CASES[1], CASES[4]])
def test_spatial_matches_pytorch(tmp_path, batch, C, O, H, stride, padding, rate, bias):
    layer = _layer(C, O, stride, padding, rate, bias)
    x = torch.randn(batch, C, H, H)
    with torch.no_grad():
        want = layer(x).numpy()
    assert rel_err(_compiled(layer, x, tmp_path, "spatial"), want) < RTOL


def test_the_pipeline_lowers_a_small_resnet_block(tmp_path):
    """Through the whole default pipeline (the cost model choosing), two layers and a residual."""
    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = _layer(16, 16, 1, 1, 50), _layer(16, 16, 1, 1, 50)

        def forward(self, x):
            return torch.relu(self.b(torch.relu(self.a(x))) + x)

    block, x = Block().eval(), torch.randn(1, 16, 16, 16)
    with torch.no_grad():
        want = block(x).numpy()
    assert rel_err(_compiled(block, x, tmp_path, None), want) < RTOL


def _rewritten(mod):
    with HOST, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(HOST).items():
            mod = tvm.transform.Sequential(passes)(mod)
            if name == "lift-params":
                return mod


def _matmul_shapes(func):
    shapes = []

    def visit(expr):
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op) and expr.op.name == "relax.matmul":
            shapes.append(tuple(tuple(int(d) for d in a.ty.shape) for a in expr.args))
    relax.analysis.post_order_visit(func.body, visit)
    return shapes


@pytest.mark.parametrize("choice", ["project", "fft"])
def test_the_construct_is_replaced_and_no_full_dft_matrix_is_left(tmp_path, choice):
    """The FFTConv construct is gone; no constant spans the padded FFT size Hf (the generic
    body's full DFT matrices); `project` runs two (rows x H) projections and one conv, `fft`
    its mixing over the kept band only, the filter spectra at load."""
    C, O, H = 8, 12, 16
    layer = _layer(C, O, 1, 1, 50)
    mod, _ = imported(layer, torch.randn(1, C, H, H), tmp_path)
    mod = _rewritten(fft_conv_lowering(HOST, choice)(mod))
    assert not any((f.attrs or {}).get(OP_ATTR) == "FFTConv" for f in mod.functions.values()
                   if isinstance(f, relax.Function))
    hf, wf = fft_geometry(H, H, 3, 1)
    rows, cols = band_axes(hf, wf, rate_index(wf, 50))
    kept = len(rows) * len(cols)
    shapes = _matmul_shapes(mod["main"])
    assert not any(hf in s for a in shapes for s in a), shapes  # no Hf-sized operand
    script = mod["main"].script()
    if choice == "project":
        assert shapes == [((H + 2, H), (1, H, H * C)), ((H + 2, H), (H + 2, H, C))], shapes
        assert "relax.nn.conv2d" in script.replace("R.nn.conv2d", "relax.nn.conv2d")
    else:
        assert ((kept, 2, C), (kept, C, 2 * O)) in shapes, shapes
        # the filter spectra (a matmul of the weights with a (2 kept, 9) constant) run at load
        assert ((2 * kept, 9), (9, C * O)) in _matmul_shapes(mod["main_transform_params"])
        assert ((2 * kept, 9), (9, C * O)) not in shapes


def test_the_generic_body_stays_where_the_pass_does_not_apply(tmp_path):
    layer = _layer(4, 4, 1, 1, 50)
    mod, _ = imported(layer, torch.randn(1, 4, 8, 8), tmp_path)
    kept = fft_conv_lowering(HOST, "generic")(mod)
    assert any((f.attrs or {}).get(OP_ATTR) == "FFTConv" for f in kept.functions.values()
               if isinstance(f, relax.Function))


def _index(H, rate=50):
    return rate_index(fft_geometry(H, H, 3, 1)[1], rate)


def test_costs_have_every_option_and_the_lowering_mechanism_shape():
    costs = fft_conv_costs(1, 16, 16, 32, 32, 3, 1, 1, _index(32))
    assert tuple(costs) == OPTIONS
    for macs, adds, weight_bytes, ns in costs.values():
        assert isinstance(macs, int) and isinstance(adds, int) and isinstance(weight_bytes, int) and ns > 0
    assert costs["project"][2] == 16 * 16 * 9 * 4  # the k x k filters, nothing else
    hf, wf = fft_geometry(32, 32, 3, 1)
    rows, cols = band_axes(hf, wf, _index(32))
    assert costs["fft"][2] == 2 * len(rows) * len(cols) * 16 * 16 * 4  # the kept band of the spectra
    assert costs["fft"][0] < costs["generic"][0]  # pruned transforms


@pytest.mark.parametrize("shape,expected", [
    ((1, 16, 16, 32, 1), "project"), ((1, 16, 32, 32, 2), "project"), ((1, 64, 64, 8, 1), "project"),
    ((1, 64, 64, 56, 1), "project"), ((1, 512, 512, 7, 1), "project"),  # resnet56 / resnet18 shapes, batch 1
    # batched, as measured (benchmarks.fft_conv --batch, docs/fft-conv.md): at batch 16 the
    # mixing's MAC saving pays for the spectra (fft 0.88x of project), at batch 8 not yet
    # (1.19x), nor for 14x14x256 at batch 16 (2.0x)
    ((16, 512, 512, 7, 1), "fft"), ((8, 512, 512, 7, 1), "project"), ((16, 256, 256, 14, 1), "project"),
    ((1, 64, 64, 1, 1), "spatial"),  # a 1 x 1 image: one matrix of C x O beats 9 C O
])
def test_choice(shape, expected):
    batch, C, O, H, stride = shape
    choice, reason = fft_conv_choice(batch, C, O, H, H, 3, stride, 1, _index(H), HOST)
    assert choice == expected, reason
    assert reason.startswith(f"{expected}: ") and all(o in reason for o in OPTIONS)


def test_the_lowering_mark_of_choose_lowering_is_carried_out(tmp_path):
    """A call whose construct ChooseLowering marked {"sedge.lowering": CHOICE} gets that lowering."""
    C, O, H = 4, 6, 8
    layer = _layer(C, O, 1, 1, 50)
    x = torch.randn(1, C, H, H)
    mod, params = imported(layer, x, tmp_path)
    gv = next(gv for gv, f in mod.functions.items() if isinstance(f, relax.Function)
              and (f.attrs or {}).get(OP_ATTR) == "FFTConv")
    mod[gv] = mod[gv].with_attr("sedge.lowering", "fft")
    lowered = fft_conv_lowering(HOST)(mod)
    hf, wf = fft_geometry(H, H, 3, 1)
    rows, cols = band_axes(hf, wf, rate_index(wf, 50))
    assert ((len(rows) * len(cols), 2, C), (len(rows) * len(cols), C, 2 * O)) in _matmul_shapes(lowered["main"])
    with torch.no_grad():
        want = layer(x).numpy()
    assert rel_err(run_compiled(lowered, HOST, [x.numpy()], params), want) < RTOL
    mod[gv] = mod[gv].with_attr("sedge.lowering", "generic")  # generic: the body stays
    assert any((f.attrs or {}).get(OP_ATTR) == "FFTConv" for f in fft_conv_lowering(HOST)(mod).functions.values()
               if isinstance(f, relax.Function))


def test_the_ops_after_a_projected_layer_stay_channels_last(tmp_path):
    """`project` ends in an NCHW conv that ChannelsLast lays out with the rest: no transpose
    of the activations between the model's input and its output (each layer of
    resnet56-fft-50 had had two around its batch-norm and ReLU)."""
    layer = PreActivation(_layer(8, 16, 1, 1, 50), _layer(16, 16, 1, 1, 50), 16).eval()
    x = torch.randn(1, 8, 12, 12)
    mod, params = imported(layer, x, tmp_path)
    # lift-params has moved the weights' permutes to load time: these are the activations'
    main = through_lift_params(mod, HOST)["main"]
    assert [[int(a) for a in c.attrs.axes] for c in permutes(main)] == [[0, 2, 3, 1], [0, 3, 1, 2]]
    got = run_compiled(mod, HOST, [x.numpy()], params)
    assert rel_err(got, layer(x).detach().numpy()) <= 1e-4
