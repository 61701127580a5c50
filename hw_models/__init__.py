"""Analytical DRAM-traffic, energy and latency models that read only per-layer records and a board.

`estimate(records, board, precision="fp32", baseline=None)` returns an `Estimate` (with
`.to_json()`); `format_report(estimate)` renders it as a Vela-style summary and table.
Nothing here imports TVM or torch.
"""
from sedge.hw_models.estimate import PRECISION_BYTES, estimate
from sedge.hw_models.report import format_report
from sedge.hw_models.result import Estimate, LayerEstimate

__all__ = ["PRECISION_BYTES", "Estimate", "LayerEstimate", "estimate", "format_report"]
