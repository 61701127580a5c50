import pytest
import torch

from sedge.errors import SedgeError
from sedge.frontend.compress import compress
from sedge.frontend.layers.structured import StructuredConv2d
from sedge.frontend.layers.substitutes import RankFactorised, TensorTrain, Tucker
from sedge.frontend.zoo import build


class Pointwise(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 12, 3, padding=1, bias=False)
        self.pw = torch.nn.Conv2d(12, 18, 1, bias=False)  # 216 = 6 x 6 x 6: full TT ranks at s = 1

    def forward(self, x):
        return self.pw(self.stem(x))


def test_structured_projection_of_structured_weights_is_exact():
    model = build("resnet8")
    for module in model.modules():  # make every 3x3 (but the stem) structured with c = C, n = 2
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size == (3, 3) and module is not model.conv1:
            source = StructuredConv2d(module.in_channels, module.out_channels, 3, module.in_channels, 2)
            with torch.no_grad():
                module.weight.copy_(source.dense_weight())
    x = torch.randn(1, 3, 32, 32)
    before = model(x)
    report = compress(model, "structured", {"n": 2})
    assert len(report) == 6 and all(row.relative_error < 1e-5 for row in report)
    assert all(row.params_after * 9 == row.params_before * 4 for row in report)
    assert torch.allclose(model(x), before, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("method,cls", [("rf", RankFactorised), ("tucker", Tucker), ("tt", TensorTrain)])
def test_full_rank_factorisations_are_exact(method, cls):
    model = Pointwise().eval()
    x = torch.randn(1, 3, 5, 5)
    before = model(x)
    report = compress(model, method, {"s": 1.0})
    assert [row.name for row in report] == ["pw"] and isinstance(model.pw, cls)
    assert report[0].relative_error < 1e-5
    assert torch.allclose(model(x), before, atol=1e-5)


def test_truncation_reports_its_error():
    model = Pointwise()
    report = compress(model, "rf", {"s": 0.25})
    assert model.pw.rank == 4 and 0 < report[0].relative_error < 1


def test_errors_name_the_allowed_values():
    with pytest.raises(SedgeError, match="allowed: structured, rf, tucker, tt"):
        compress(Pointwise(), "svd", {})
    with pytest.raises(SedgeError, match="0 < s <= 1"):
        compress(Pointwise(), "tt", {"s": 0})
    with pytest.raises(SedgeError, match="applies to no layer"):
        compress(build("resnet8"), "rf", {"s": 0.5})
