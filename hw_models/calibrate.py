"""Fits a board's effective throughput, bandwidth and per-kernel overhead to measured latencies.

The latency model is, summed over layers, max(compute_s / c, memory_s / m) plus t for each
kernel (a layer not fused into its producer), where compute_s and memory_s are a layer's
times at the board's peak figures, c and m the fractions of peak compute and bandwidth
really reached, and t the fixed cost of starting a kernel. For each (c, m) on a log grid the
best t >= 0 follows by least squares on relative errors; the (c, m, t) with the smallest
error wins, then a finer grid refines it. Fewer than three models cannot separate three
unknowns: with two, c = m (one efficiency, keeping the board's own balance of compute and
bandwidth) and t are fitted; with one, c = m alone.
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
    launch_overhead_s: float = 0.0  # seconds per kernel


@dataclass(frozen=True)
class LayerTimes:
    """A model's per-layer seconds at the board's peak rates, and its number of kernels."""

    compute_s: np.ndarray
    memory_s: np.ndarray
    kernels: int


def layer_times(estimate) -> LayerTimes:
    compute = np.array([layer.cycles["compute"] for layer in estimate.layers]) / estimate.clock_hz
    memory = np.array([max(v for k, v in layer.cycles.items() if k != "compute")
                       for layer in estimate.layers]) / estimate.clock_hz
    return LayerTimes(compute, memory, sum(1 for layer in estimate.layers if layer.order != "fused"))


def predict_s(times: LayerTimes, calibration: Calibration) -> float:
    roofline = np.maximum(times.compute_s / calibration.compute_scale, times.memory_s / calibration.memory_scale)
    return float(roofline.sum() + times.kernels * calibration.launch_overhead_s)


def fit(times: list[LayerTimes], measured_s: list[float]) -> Calibration:
    if not times or len(times) != len(measured_s) or min(measured_s) <= 0:
        raise SedgeError("calibration needs at least one model with a measured latency > 0 seconds")
    grid = np.logspace(-4, 1, 151)  # 30 points per decade
    c, m = _best(times, measured_s, grid, grid)[:2]
    def fine(x):  # with c = m, still the diagonal
        return x * np.logspace(-1 / 30, 1 / 30, 21)

    c, m, t = _best(times, measured_s, fine(c), fine(m))
    return Calibration(compute_scale=float(c), memory_scale=float(m), launch_overhead_s=float(t))


def _best(times, measured_s, compute_grid, memory_grid):
    roofline = [np.maximum(t.compute_s[None, None, :] / compute_grid[:, None, None],
                           t.memory_s[None, None, :] / memory_grid[None, :, None]).sum(axis=2) for t in times]
    measured, kernels = np.array(measured_s), np.array([t.kernels for t in times], dtype=float)
    weights = 1 / measured**2
    overhead = np.zeros_like(roofline[0])
    if len(times) > 1:
        numerator = sum(w * n * (m - r) for w, n, m, r in zip(weights, kernels, measured, roofline))
        overhead = np.maximum(0.0, numerator / float(np.sum(weights * kernels**2)))
    error = sum(((r + n * overhead - m) / m) ** 2 for n, m, r in zip(kernels, measured, roofline))
    if len(times) < 3:  # one efficiency for both: only the diagonal c = m
        error = np.where(np.eye(len(compute_grid), dtype=bool), error, np.inf)
    i, j = np.unravel_index(np.argmin(error), error.shape)
    return compute_grid[i], memory_grid[j], overhead[i, j]


def calibrated_board(board, calibration: Calibration):
    """The board with its peak compute and bandwidths scaled to what was measured."""
    def scale(table):
        return {k: v * calibration.compute_scale for k, v in table.items()}

    def memory(level):
        return dataclasses.replace(level, bandwidth_gbps=level.bandwidth_gbps * calibration.memory_scale)

    compute = dataclasses.replace(board.compute, macs_per_cycle=scale(board.compute.macs_per_cycle),
                                  adds_per_cycle=scale(board.compute.adds_per_cycle),
                                  launch_overhead_s=calibration.launch_overhead_s)
    return dataclasses.replace(board, compute=compute, sram=tuple(memory(l) for l in board.sram),
                               dram=memory(board.dram))
