"""Calibration recovers effective throughput, bandwidth and kernel overhead from synthetic
measurements, and predicts a model it was not fitted on."""
import numpy as np
import pytest
from toy_records import toy_network

from sedge.boards import load_board
from sedge.errors import SedgeError
from sedge.hw_models import estimate
from sedge.hw_models.calibrate import Calibration, LayerTimes, calibrated_board, fit, layer_times, predict_s


def synthetic_models(count, seed=0, memory_range=(1e-7, 1e-5)):
    """Layers of 1-10 us of compute at peak: at the fitted efficiencies, comparable to the
    kernel overhead, as on a CPU running many small layers."""
    rng = np.random.default_rng(seed)
    return [LayerTimes(rng.uniform(1e-6, 1e-5, n), rng.uniform(*memory_range, n), n)
            for n in rng.integers(20, 200, count)]


def test_fit_on_two_models_predicts_a_third_within_a_few_percent():
    models = synthetic_models(3)
    truth = Calibration(compute_scale=0.05, memory_scale=0.05, launch_overhead_s=40e-6)
    measured = [predict_s(m, truth) for m in models]
    fitted = fit(models[:2], measured[:2])
    assert fitted.launch_overhead_s == pytest.approx(40e-6, rel=0.1)
    assert predict_s(models[2], fitted) == pytest.approx(measured[2], rel=0.03)


def test_fit_with_more_models_than_unknowns_recovers_all_three():
    models = synthetic_models(5, seed=1, memory_range=(1e-7, 1e-6))  # both bounds bind in some layers
    truth = Calibration(compute_scale=0.2, memory_scale=0.02, launch_overhead_s=10e-6)
    fitted = fit(models, [predict_s(m, truth) for m in models])
    assert (fitted.compute_scale, fitted.memory_scale) == pytest.approx((0.2, 0.02), rel=0.05)
    assert fitted.launch_overhead_s == pytest.approx(10e-6, rel=0.1)


def test_one_model_fits_the_efficiency_alone():
    model = synthetic_models(1)[0]
    fitted = fit([model], [predict_s(model, Calibration(0.1, 0.1))])
    assert fitted.launch_overhead_s == 0
    assert predict_s(model, fitted) == pytest.approx(predict_s(model, Calibration(0.1, 0.1)), rel=0.01)


def test_fit_rejects_missing_measurements():
    with pytest.raises(SedgeError, match="at least one model"):
        fit([], [])


def test_a_calibrated_board_predicts_what_the_calibration_predicts():
    board = load_board("raspberry-pi-4")
    calibration = Calibration(compute_scale=0.25, memory_scale=0.5, launch_overhead_s=20e-6)
    times = layer_times(estimate(toy_network(), board))
    slow = estimate(toy_network(), calibrated_board(board, calibration))
    assert slow.totals()["latency_s"] == pytest.approx(predict_s(times, calibration), rel=1e-9)
    assert calibrated_board(board, calibration).dram.bandwidth_gbps == board.dram.bandwidth_gbps * 0.5
