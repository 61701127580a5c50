"""Fits a board's effective throughput and bandwidth to measured latencies, and applies them.

The latency model is sum over layers of max(compute_s / c, memory_s / m), where compute_s
and memory_s are a layer's times at the board's peak figures and c, m in (0, 10] the
fractions of peak compute and bandwidth really reached. The fit minimises the squared log
error over the measured models on a log grid, then on a finer grid around the best point.
When every layer stays compute-bound the bandwidth is not observable; the fit then keeps the
lowest bandwidth consistent with the measurements (the pessimistic choice).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sedge.errors import SedgeError


@dataclass(frozen=True)
class Calibration:
    compute_scale: float  # effective / peak MACs and adds per cycle
    memory_scale: float  # effective / peak bandwidth of every memory


def layer_times(estimate) -> tuple[np.ndarray, np.ndarray]:
    """Per layer, seconds of compute and of the slowest memory at peak rates."""
    compute = np.array([layer.cycles["compute"] for layer in estimate.layers]) / estimate.clock_hz
    memory = np.array([max(v for k, v in layer.cycles.items() if k != "compute")
                       for layer in estimate.layers]) / estimate.clock_hz
    return compute, memory


def predict_s(times: tuple[np.ndarray, np.ndarray], calibration: Calibration) -> float:
    compute, memory = times
    return float(np.maximum(compute / calibration.compute_scale, memory / calibration.memory_scale).sum())


def fit(times: list[tuple[np.ndarray, np.ndarray]], measured_s: list[float]) -> Calibration:
    if not times or len(times) != len(measured_s) or min(measured_s) <= 0:
        raise SedgeError("calibration needs at least one model with a measured latency > 0 seconds")
    grid = np.logspace(-6, 1, 281)  # 40 points per decade
    c, m = _best(times, measured_s, grid, grid)
    step = grid[1] / grid[0]
    fine = lambda x: x * np.logspace(-np.log10(step), np.log10(step), 41)
    c, m = _best(times, measured_s, fine(c), fine(m))
    return Calibration(compute_scale=float(c), memory_scale=float(m))


def _best(times, measured_s, compute_grid, memory_grid) -> tuple[float, float]:
    error = np.zeros((len(compute_grid), len(memory_grid)))
    for (compute, memory), measured in zip(times, measured_s):
        predicted = np.maximum(compute[None, None, :] / compute_grid[:, None, None],
                               memory[None, None, :] / memory_grid[None, :, None]).sum(axis=2)
        error += np.log(predicted / measured) ** 2
    i, j = np.unravel_index(np.argmin(error), error.shape)
    return compute_grid[i], memory_grid[j]


def calibrated_board(board, calibration: Calibration):
    """The board with its peak compute and bandwidths scaled to what was measured."""
    scale = lambda table: {k: v * calibration.compute_scale for k, v in table.items()}
    memory = lambda level: dataclasses.replace(level, bandwidth_gbps=level.bandwidth_gbps * calibration.memory_scale)
    compute = dataclasses.replace(board.compute, macs_per_cycle=scale(board.compute.macs_per_cycle),
                                  adds_per_cycle=scale(board.compute.adds_per_cycle))
    return dataclasses.replace(board, compute=compute, sram=tuple(memory(l) for l in board.sram),
                               dram=memory(board.dram))
