import pytest
import torch
import torch.nn.functional as F

from sedge.errors import SedgeError
from sedge.frontend.layers.substitutes import (
    Hashed,
    RankFactorised,
    ShuffleBlock,
    TensorTrain,
    Tucker,
    compressed_weight_decay,
    near_equal_factors,
    separable,
)


@pytest.mark.parametrize("make", [lambda: RankFactorised(12, 20, 0.5), lambda: TensorTrain(12, 20, 0.5),
                                  lambda: Tucker(12, 20, 0.5), lambda: Hashed(12, 20, 0.25)])
def test_pointwise_equals_its_dense_matrix(make):
    layer = make().eval()
    x = torch.randn(2, 12, 5, 6)
    dense = F.conv2d(x, layer.matrix()[:, :, None, None])
    assert float((layer(x) - dense).detach().norm() / dense.detach().norm()) < 1e-5


def test_published_sizes():
    assert RankFactorised(64, 128, 0.25).rank == 32
    assert near_equal_factors(64 * 64) == [16, 16, 16]
    assert TensorTrain(64, 64, 0.5).ranks == [8, 8]
    assert Hashed(10, 10, 0.3).weight.numel() == 30
    assert compressed_weight_decay(5e-4, 1000, 4000) == pytest.approx(1.25e-4)


def test_shuffle_block_groups_and_shuffle():
    block = ShuffleBlock(24, 48, 8, stride=2).eval()
    assert block.groups == 6  # the largest g <= 8 dividing C = 24, O = 48 and O/4 = 12
    y = block(torch.randn(1, 24, 8, 8))
    assert y.shape == (1, 48, 4, 4)


def test_separable_carries_the_stride():
    y = separable(Tucker(6, 8, 0.5), stride=2)(torch.randn(1, 6, 9, 9))
    assert y.shape == (1, 8, 5, 5)


def test_bad_rank_factor_is_refused():
    with pytest.raises(SedgeError, match="0 < s <= 1"):
        RankFactorised(4, 4, 0)
