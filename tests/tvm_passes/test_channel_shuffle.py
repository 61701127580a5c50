"""Channel shuffles: found in any reshape/transpose chain, sunk past per-channel ops and
folded into the conv that reads them; numerics against PyTorch either way."""
import numpy as np
import pytest
import torch
import tvm
from tvm import relax

from sedge.tvm_passes.passes.channel_shuffle import shuffle_groups
from sedge.tvm_passes.pipeline import phases
from sedge.tvm_passes.target import host_target
from compiled_models import run_compiled

TARGET = tvm.target.Target(host_target())
F = torch.nn.functional
RTOL = 1e-4  # max |sedge - torch| / max |torch|


def _shuffle(bb, x, channels, groups, size):
    """ShuffleNet's channel shuffle as PyTorch exports it: reshape, transpose, reshape."""
    x = bb.emit(relax.op.reshape(x, (1, groups, channels // groups, size, size)))
    x = bb.emit(relax.op.permute_dims(x, [0, 2, 1, 3, 4]))
    return bb.emit(relax.op.reshape(x, (1, channels, size, size)))


def _block(size, channels, groups, between, after):
    """grouped 1x1 -> shuffle -> depthwise 3x3 -> `between` ops -> grouped 1x1 (`after`: a
    second shuffle and a residual add before it);
    returns (Relax module, PyTorch function of x and the weights, weights)."""
    rng = np.random.default_rng(0)
    w1 = rng.standard_normal((channels, channels // groups, 1, 1), dtype=np.float32)
    dw = rng.standard_normal((channels, 1, 3, 3), dtype=np.float32)
    w2 = rng.standard_normal((channels, channels // groups, 1, 1), dtype=np.float32)
    scale = rng.standard_normal((1, channels, 1, 1), dtype=np.float32)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, channels, size, size), "float32"))
    params = [relax.Var(n, relax.TensorType(a.shape, "float32")) for n, a in (("w1", w1), ("dw", dw), ("w2", w2))]
    with bb.function("main", [x, *params], {"num_input": 1}):
        with bb.dataflow():
            y = bb.emit(relax.op.nn.conv2d(x, params[0], groups=groups))
            y = _shuffle(bb, y, channels, groups, size)
            y = bb.emit(relax.op.nn.conv2d(y, params[1], padding=1, groups=channels))
            if "scale" in between:
                y = bb.emit(relax.op.multiply(y, relax.const(scale)))
            if "relu" in between:
                y = bb.emit(relax.op.nn.relu(relax.op.add(y, relax.const(0.5, "float32"))))
            if after == "residual":  # a full tensor operand: the shuffle must not sink past it
                y = bb.emit(relax.op.add(_shuffle(bb, y, channels, groups, size), x))
            out = bb.emit_output(relax.op.nn.conv2d(y, params[2], groups=groups))
        bb.emit_func_output(out)

    def reference(data):
        y = F.conv2d(data, torch.tensor(w1), groups=groups)
        y = y.reshape(1, groups, channels // groups, size, size).transpose(1, 2).reshape(1, channels, size, size)
        y = F.conv2d(y, torch.tensor(dw), padding=1, groups=channels)
        if "scale" in between:
            y = y * torch.tensor(scale)
        if "relu" in between:
            y = torch.relu(y + 0.5)
        if after == "residual":
            y = y.reshape(1, groups, channels // groups, size, size).transpose(1, 2).reshape(1, channels, size, size)
            y = y + data
        return F.conv2d(y, torch.tensor(w2), groups=groups)

    return bb.get(), reference, [w1, dw, w2]


def _rewritten(mod):
    with TARGET, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(TARGET).items():
            mod = tvm.transform.Sequential(passes)(mod)
            if name == "lift-params":
                return mod["main"].script()


@pytest.mark.parametrize("size, channels, groups, between", [
    (6, 40, 8, ()),  # wrn-28-10-shuffle-8's: 5 channels per group
    (5, 16, 4, ("scale", "relu")),  # and past a per-channel scale, a scalar add and a ReLU
])
def test_shuffle_folds_into_the_next_grouped_conv(size, channels, groups, between):
    mod, reference, weights = _block(size, channels, groups, between, after=None)
    main = _rewritten(mod)
    assert "R.reshape" not in main and "R.take" not in main, "no shuffle kernel is left"
    x = np.random.default_rng(1).standard_normal((1, channels, size, size), dtype=np.float32)
    want = reference(torch.tensor(x)).numpy()
    got = run_compiled(mod, TARGET, [x], weights)
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_shuffle_before_a_full_tensor_operand_stays_a_kernel():
    mod, reference, weights = _block(4, 24, 4, (), after="residual")
    assert _rewritten(mod).count("R.take") == 1, "the second shuffle meets a residual add: one take kernel"
    x = np.random.default_rng(2).standard_normal((1, 24, 4, 4), dtype=np.float32)
    want = reference(torch.tensor(x)).numpy()
    got = run_compiled(mod, TARGET, [x], weights)
    assert np.max(np.abs(got - want)) <= RTOL * np.max(np.abs(want))


def test_shuffle_groups_recognises_only_the_shuffle():
    m = np.arange(12)
    assert shuffle_groups(m % 3 * 4 + m // 3) == 3
    assert shuffle_groups(m % 4 * 3 + m // 4) == 4
    assert shuffle_groups(m[::-1]) is None
