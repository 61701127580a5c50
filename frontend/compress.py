"""Convert a trained dense model's layers into compressed ones: the starting point for fine-tuning.

Each method replaces the layers it applies to with the best fit it can compute in closed form:
- structured: alpha = pinv(A) W, the least-squares structured kernel (methods.md §1), on every
  conv but the stem (n on k x k kernels, c = round(c_ratio * C / groups); with c_ratio < 1 also
  1x1 convs and linear layers);
- rf: truncated SVD of each pointwise (1x1) conv, W ~ (U sqrt(S)) (sqrt(S) V^T), rank int(s max(C, O));
- tucker: the higher-order SVD of each pointwise conv's O x C matrix, ranks round(s d_n);
- tt: TT-SVD of each pointwise conv's matrix reshaped to three near-equal dimensions.
Compressing loses accuracy that only fine-tuning recovers; the report gives each layer's
parameter reduction and relative approximation error ||W' - W|| / ||W||.
"""
from dataclasses import dataclass

import torch
from torch import nn

from sedge.errors import SedgeError
from sedge.frontend.layers.settings import require_float_range, require_int_range
from sedge.frontend.layers.structured import StructuredConv2d, StructuredLinear
from sedge.frontend.layers.substitutes import RankFactorised, TensorTrain, Tucker


@dataclass
class LayerConversion:
    name: str
    replaced_by: str
    params_before: int
    params_after: int
    relative_error: float


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _relative_error(approx: torch.Tensor, exact: torch.Tensor) -> float:
    return float((approx.detach() - exact).norm() / exact.norm().clamp_min(1e-30))


def _padded(matrix: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """`matrix` cut or zero-padded to rows x cols (a rank above min(O, C) adds zero factors)."""
    out = matrix.new_zeros(rows, cols)
    r, c = min(rows, matrix.shape[0]), min(cols, matrix.shape[1])
    out[:r, :c] = matrix[:r, :c]
    return out


def _to_structured(layer, settings):
    if isinstance(layer, nn.Linear):
        c = max(1, round(settings["c_ratio"] * layer.in_features))
        return StructuredLinear.from_dense(layer, c) if c < layer.in_features else None
    kernel, group_in = layer.kernel_size[0], layer.in_channels // layer.groups
    c = max(1, round(settings["c_ratio"] * group_in))
    n = min(settings["n"], kernel)
    if (c, n) == (group_in, kernel) or layer.kernel_size[0] != layer.kernel_size[1]:
        return None
    return StructuredConv2d.from_dense(layer, c, n)


def _pointwise_matrix(layer):
    is_pointwise = isinstance(layer, nn.Conv2d) and layer.kernel_size == (1, 1) and layer.groups == 1
    if not is_pointwise or layer.stride != (1, 1) or layer.bias is not None:
        return None  # the substitutes are bias-free, stride-1 pointwise layers
    return layer.weight.detach()[:, :, 0, 0]


def _to_rf(layer, settings):
    W = _pointwise_matrix(layer)
    if W is None:
        return None
    new = RankFactorised(layer.in_channels, layer.out_channels, settings["s"])
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    root = S.sqrt()
    with torch.no_grad():
        new.expand.weight.copy_(_padded(U * root, W.shape[0], new.rank)[:, :, None, None])
        new.reduce.weight.copy_(_padded(root[:, None] * Vh, new.rank, W.shape[1])[:, :, None, None])
    return new, _relative_error(new.matrix(), W)


def _to_tucker(layer, settings):
    W = _pointwise_matrix(layer)
    if W is None:
        return None
    new = Tucker(layer.in_channels, layer.out_channels, settings["s"])
    U, _, Vh = torch.linalg.svd(W)
    out_factor = _padded(U, W.shape[0], new.ranks[0])
    in_factor = _padded(Vh.T, W.shape[1], new.ranks[1])
    with torch.no_grad():
        new.out_factor.copy_(out_factor)
        new.in_factor.copy_(in_factor)
        new.core.copy_(out_factor.T @ W @ in_factor)
    return new, _relative_error(new.matrix(), W)


def _to_tt(layer, settings):
    W = _pointwise_matrix(layer)
    if W is None:
        return None
    new = TensorTrain(layer.in_channels, layer.out_channels, settings["s"])
    (d1, d2, d3), (r1, r2) = new.dims, new.ranks
    U, S, Vh = torch.linalg.svd(W.reshape(d1, d2 * d3), full_matrices=False)
    core1 = _padded(U, d1, r1)
    rest = _padded(S[:, None] * Vh, r1, d2 * d3).reshape(r1 * d2, d3)
    U, S, Vh = torch.linalg.svd(rest, full_matrices=False)
    with torch.no_grad():
        new.core1.copy_(core1.reshape(1, d1, r1))
        new.core2.copy_(_padded(U, r1 * d2, r2).reshape(r1, d2, r2))
        new.core3.copy_(_padded(S[:, None] * Vh, r2, d3).reshape(r2, d3, 1))
    return new, _relative_error(new.matrix(), W)


METHODS = {"structured": _to_structured, "rf": _to_rf, "tucker": _to_tucker, "tt": _to_tt}
_POINTWISE = "bias-free stride-1 pointwise (1x1) convs"
APPLIES_TO = {"structured": "k x k convs (and with c_ratio < 1, 1x1 convs and linear layers)", "rf": _POINTWISE,
              "tucker": _POINTWISE, "tt": _POINTWISE}


def check_settings(method: str, settings: dict) -> dict:
    if method not in METHODS:
        raise SedgeError(f"unknown compression method '{method}'; allowed: {', '.join(METHODS)}")
    if method == "structured":
        return {"n": require_int_range("n", settings.get("n", 2), 1),
                "c_ratio": require_float_range("c_ratio", settings.get("c_ratio", 1.0), 0, 1, low_open=True)}
    return {"s": require_float_range("s", settings.get("s", 0.5), 0, 1, low_open=True)}


def compress(model: nn.Module, method: str, settings: dict) -> list[LayerConversion]:
    """Replace, in place, every layer `method` applies to (the stem stays dense); one report row each."""
    settings = check_settings(method, settings)
    convert = METHODS[method]
    candidates = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    report = []
    for name, layer in candidates[1:]:  # candidates[0] is the stem
        converted = convert(layer, settings)
        if converted is None:
            continue
        new, error = converted
        parent_name, _, attribute = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, attribute, new)
        report.append(LayerConversion(name, type(new).__name__, _params(layer), _params(new), error))
    if not report:
        raise SedgeError(f"method '{method}' applies to no layer of this model; it converts {APPLIES_TO[method]}, "
                         f"never the stem")
    return report


def compress_zoo_model(name: str, method: str, settings: dict, output: str, seed: int = 0,
                       checkpoint: str | None = None) -> list[LayerConversion]:
    """Load a dense zoo model (checkpoint or seeded weights), compress it and write it to `output`."""
    from sedge.frontend.export import FORMATS, check_output, load_zoo_model, save_model

    check_output(output, FORMATS + (".pt",))
    model = load_zoo_model(name, seed, checkpoint)
    if model.zoo_spec.variant:
        raise SedgeError(f"'{name}' is already compressed; give a dense base model such as "
                         f"'{name.rsplit('-' + model.zoo_spec.variant, 1)[0]}'")
    report = compress(model, method, settings)
    save_model(model.eval(), torch.zeros(model.zoo_spec.input_shape), output)
    return report
