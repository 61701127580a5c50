"""Energy per operation: Horowitz's 45 nm table (ISSCC 2014), scaled by technology node.

Dynamic energy is C V^2; from 45 nm down, capacitance shrinks about linearly with the
feature size while the supply voltage has stayed near flat, so the table is scaled by
node / 45. A board may override any entry with values of its own (`mult_pj`, `add_pj`).
"""
from __future__ import annotations

HOROWITZ_45NM_PJ = {
    # int8 and fp16/fp32 from the paper; "int8" add/mult are its 8-bit integer figures.
    "mult": {"int8": 0.2, "fp16": 1.1, "fp32": 3.7},
    "add": {"int8": 0.03, "fp16": 0.4, "fp32": 0.9},
}
REFERENCE_NODE_NM = 45.0


def op_energy_pj(board, precision: str) -> tuple[float, float]:
    """(multiply, add) energy in pJ on `board` at `precision`."""
    scale = board.node_nm / REFERENCE_NODE_NM
    mult = board.mult_pj.get(precision, HOROWITZ_45NM_PJ["mult"][precision] * scale)
    add = board.add_pj.get(precision, HOROWITZ_45NM_PJ["add"][precision] * scale)
    return mult, add
