"""Each compressed family through both export formats and both importers, compiled by TVM.

Tolerance: max |got - want| / max |want| <= 1e-5 against the PyTorch module.
"""
import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from roundtrip_cases import CASES, build_case

from sedge.frontend.export import export_onnx, export_pt2
from sedge.frontend.importers.construct import OP_ATTR
from sedge.frontend.layers.fft import BandLimitedConv2d, band_mask, fft_geometry
from sedge.frontend.loaders import load_model

RTOL = 1e-5


def rel_err(got, want):
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


def constructs(mod):
    """The sedge.op of each construct function `main` calls, in call order."""
    from tvm import relax

    called = []
    for block in mod["main"].body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar):
                attrs = mod[value.op].attrs
                if attrs is not None and OP_ATTR in attrs:
                    called.append(str(attrs[OP_ATTR]))
    return called


def compile_and_run(model, x):
    import tvm
    from tvm import relax

    target = tvm.target.Target({"kind": "llvm"})
    executable = tvm.compile(model.mod, target, relax_pipeline=relax.get_default_pipeline(target))
    vm = relax.VirtualMachine(executable, tvm.cpu())
    return vm["main"](tvm.runtime.tensor(x), *[tvm.runtime.tensor(p) for p in model.params]).numpy()


@pytest.mark.parametrize("name", CASES)
def test_onnx_export_runs_in_onnx_runtime_and_imports_as_constructs(name, tmp_path):
    module, x, layers, op = build_case(name)
    want = module(x).detach().numpy()
    path = export_onnx(module, x, str(tmp_path / "m.onnx"))
    proto = onnx.load(path)
    assert [n.op_type for n in proto.graph.node if n.domain == "sedge"] == [op] * layers
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert rel_err(session.run(None, {"input": x.numpy()})[0], want) <= RTOL
    model = load_model(path)
    assert constructs(model.mod) == [op] * layers
    assert rel_err(compile_and_run(model, x.numpy()), want) <= RTOL


@pytest.mark.parametrize("name", CASES)
def test_torch_export_imports_as_constructs(name, tmp_path):
    module, x, layers, op = build_case(name)
    want = module(x).detach().numpy()
    model = load_model(export_pt2(module, x, str(tmp_path / "m.pt2")))
    assert constructs(model.mod) == [op] * layers
    assert rel_err(compile_and_run(model, x.numpy()), want) <= RTOL


def test_construct_carries_the_settings_as_attributes(tmp_path):
    module, x, _, _ = build_case("structured")
    model = load_model(export_onnx(module, x, str(tmp_path / "m.onnx")))
    function = next(f for _, f in model.mod.functions.items() if f.attrs is not None and OP_ATTR in f.attrs)
    attrs = {k: v for k, v in function.attrs.items()}
    assert (int(attrs["c"]), int(attrs["n"]), int(attrs["kernel_size"]), int(attrs["group"])) == (4, 2, 3, 1)
    assert [int(v) for v in attrs["strides"]] == [2, 2] and [int(v) for v in attrs["dilations"]] == [2, 2]


def test_a_bare_sum_pool_node_runs_and_imports(tmp_path):
    from onnx import TensorProto, helper

    from sedge.frontend.export import attach_functions
    from sedge.frontend.layers.structured import sum_pool

    attrs = dict(c=2, n=2, kernel_size=3, pads=[1, 1, 1, 1], dilations=[2, 2], group=2)
    node = helper.make_node("SumPool", ["input"], ["output"], domain="sedge", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 6, 7, 8])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 7, 8])])
    proto = attach_functions(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9))
    path = tmp_path / "sum_pool.onnx"
    onnx.save(proto, path)
    x = torch.randn(1, 6, 7, 8)
    want = sum_pool(x, 2, 2, [1, 1], [2, 2], 2).numpy()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert rel_err(session.run(None, {"input": x.numpy()})[0], want) <= RTOL
    model = load_model(str(path))
    assert constructs(model.mod) == ["SumPool"]
    assert rel_err(compile_and_run(model, x.numpy()), want) <= RTOL


def _convs(function):
    """(weight shape, groups) of each conv2d in a construct function, in order."""
    from tvm import relax

    found = []
    for block in function.body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call) and getattr(value.op, "name", "") == "relax.nn.conv2d":
                found.append(([int(d) for d in value.args[1].ty.shape], int(value.attrs.groups)))
    return found


@pytest.mark.parametrize("c, expected", [
    # c = C (struct-a): the sum-pool is spatial only, a depthwise all-ones conv
    (8, [([8, 1, 2, 2], 8), ([5, 8, 2, 2], 1)]),
    # c < C: a 0/1 band over channels (1x1), then the spatial box sum
    (6, [([6, 8, 1, 1], 1), ([6, 1, 2, 2], 6), ([5, 6, 2, 2], 1)]),
])
def test_sum_pool_imports_as_its_separable_parts(c, expected, tmp_path):
    """No conv multiplies the zeros of the 3-D 0/1 sum-pool weight (C x the work when c = C)."""
    from sedge.frontend.layers.structured import StructuredConv2d

    module = StructuredConv2d(8, 5, 3, c, 2, padding=1).eval()
    x = torch.randn(1, 8, 9, 9)
    model = load_model(export_onnx(module, x, str(tmp_path / "m.onnx")))
    (function,) = [f for gv, f in model.mod.functions.items() if gv.name_hint.startswith("sedge_StructuredConv")]
    assert _convs(function) == expected
    assert rel_err(compile_and_run(model, x.numpy()), module(x).detach().numpy()) <= RTOL


def _construct_body(model, op):
    (body,) = [f for _, f in model.mod.functions.items()
               if f.attrs is not None and OP_ATTR in f.attrs and str(f.attrs[OP_ATTR]) == op]
    return body.script()


def test_acdc_riffle_folds_into_the_inverse_dct(tmp_path):
    """The riffle reorders the last product's columns: the importer reorders the inverse
    DCT matrix's columns and the bias instead of emitting a transpose (a gather kernel per
    factor). Numerics: secl_widening (with bias) and secl_narrowing above."""
    module, x, _, _ = build_case("secl_widening")
    script = _construct_body(load_model(export_onnx(module, x, str(tmp_path / "m.onnx"))), "ACDC")
    assert "permute_dims" not in script and script.count("R.take") == 3, "one reordered bias per factor"


def test_fft_import_computes_only_the_kept_band(tmp_path):
    """A 50% band keeps 11 rows x 6 columns of the 19 x 9 one-sided spectrum: the DFTs and
    the channel contraction run on those 66 coefficients, not on 171 masked afterwards; the
    complex contraction is one real product per frequency."""
    module, x, _, _ = build_case("fft_band_limited")
    hf, wf = fft_geometry(9, 8, 3, 1)
    kept = int(band_mask(hf, wf, module.band_index(9, 8)).sum())
    assert (hf, wf // 2 + 1, kept) == (19, 9, 66)
    script = _construct_body(load_model(export_onnx(module, x, str(tmp_path / "m.onnx"))), "FFTConv")
    assert f"R.Tensor(({kept}, 1, 3)" in script and f"R.Tensor(({kept}, 3, 4)" in script
    # one product per frequency: [Xr; Xi] (2 x 3) against [Fr, Fi] (3 x 8), each spectrum read once
    assert f"R.Tensor(({kept}, 2, 8)" in script
    assert f"({hf * (wf // 2 + 1)}," not in script, "no tensor over the whole spectrum"


def test_fft_conv_with_an_empty_band_passes_the_bias(tmp_path):
    module = BandLimitedConv2d(3, 4, 3, 1, 1, compress_rate=99).eval()
    torch.nn.init.uniform_(module.bias)
    x = torch.randn(1, 3, 6, 6)
    assert module.band_index(6, 6) == 0, "7 one-sided columns x 0.1 keep none"
    want = module(x).detach().numpy()
    np.testing.assert_allclose(want, module.bias.detach().numpy()[None, :, None, None] * np.ones((1, 4, 6, 6)))
    model = load_model(export_onnx(module, x, str(tmp_path / "m.onnx")))
    assert rel_err(compile_and_run(model, x.numpy()), want) <= RTOL
