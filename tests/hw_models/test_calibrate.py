"""Calibration recovers effective throughput and bandwidth from synthetic measurements."""
import numpy as np
import pytest

from conftest import toy_network
from sedge.boards import load_board
from sedge.errors import SedgeError
from sedge.hw_models import estimate
from sedge.hw_models.calibrate import Calibration, calibrated_board, fit, layer_times, predict_s


def synthetic_models(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.uniform(1e-4, 1e-3, 12), rng.uniform(1e-4, 1e-3, 12)) for _ in range(3)]


def test_fit_on_two_models_predicts_a_third():
    models, truth = synthetic_models(), Calibration(compute_scale=0.05, memory_scale=0.3)
    measured = [predict_s(m, truth) for m in models]
    fitted = fit(models[:2], measured[:2])
    assert fitted.compute_scale == pytest.approx(0.05, rel=0.05)
    assert predict_s(models[2], fitted) == pytest.approx(measured[2], rel=0.02)


def test_fit_rejects_missing_measurements():
    with pytest.raises(SedgeError, match="at least one model"):
        fit([], [])


def test_a_calibrated_board_predicts_what_the_calibration_predicts():
    board = load_board("raspberry-pi-4")
    calibration = Calibration(compute_scale=0.25, memory_scale=0.5)
    times = layer_times(estimate(toy_network(), board))
    slow = estimate(toy_network(), calibrated_board(board, calibration))
    assert slow.totals()["latency_s"] == pytest.approx(predict_s(times, calibration), rel=1e-9)
    assert calibrated_board(board, calibration).dram.bandwidth_gbps == board.dram.bandwidth_gbps * 0.5
