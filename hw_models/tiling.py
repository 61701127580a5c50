"""Off-chip traffic of one layer through a buffer of a given size, from a tiling model.

A layer is seen as output channels x output rows x a reduction over input channels. The
model tries every tiling (output-channel splits `nw`, output-row splits `ns`, input-channel
splits `nc`, each a power of two or the whole dimension) whose weight, input and output
tiles fit the buffer together, under two loop orders, and keeps the one that moves the
fewest bytes:

- weights outer ("weight stationary"): weights read once, the input read once per weight tile;
- rows outer ("output stationary"): the input read once, the weights once per row tile.

Row tiles overlap by the kernel's halo; splitting the reduction spills partial sums
(outputs written and read back `2*nc - 1` times). A tensor the caller keeps on chip
(the previous layer's output, a resident generator) costs no traffic but takes buffer space.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Geometry:
    """What the tiling model needs to know about a layer's loops, from its record."""

    out_channels: int
    out_rows: int
    in_channels: int
    in_rows: int
    kernel_rows: int
    stride: int


@dataclass(frozen=True)
class Traffic:
    """Bytes moved into (weights, inputs) and out of (outputs) a buffer for one layer."""

    weights: float
    inputs: float
    outputs: float
    order: str
    tiles: tuple[int, int, int]  # (nw, ns, nc)
    fits: bool

    @property
    def total(self) -> float:
        return self.weights + self.inputs + self.outputs


def geometry(input_shapes: list, output_shape: list, weight_shapes: list) -> Geometry:
    """NCHW layers tile over rows of the feature map; anything else over its leading dims."""
    first_in = input_shapes[0] if input_shapes else output_shape
    if len(output_shape) == 4 and len(first_in) == 4:
        kernel = weight_shapes[0][2] if weight_shapes and len(weight_shapes[0]) == 4 else 1
        stride = max(1, round(first_in[2] / max(1, output_shape[2])))
        return Geometry(output_shape[1], output_shape[0] * output_shape[2], first_in[1],
                        first_in[0] * first_in[2], max(kernel, stride), stride)
    rows = math.prod(output_shape[:-1]) if len(output_shape) > 1 else 1
    return Geometry(output_shape[-1] if output_shape else 1, rows,
                    first_in[-1] if first_in else 1, rows, 1, 1)


def _splits(n: int) -> np.ndarray:
    powers = [2**k for k in range(int(math.log2(max(1, n))) + 1)]
    return np.array(sorted(set(powers + [max(1, n)])), dtype=float)


def traffic(geo: Geometry, weight_bytes: float, input_bytes: float, output_bytes: float,
            buffer_bytes: float, input_on_chip: float = 0.0, output_on_chip: bool = False) -> Traffic:
    """The cheapest tiling of one layer; `input_on_chip` bytes of its input are already resident."""
    streamed_in = max(0.0, input_bytes - input_on_chip)
    room = buffer_bytes - input_on_chip - (output_bytes if output_on_chip else 0.0)
    nw, ns, nc = np.meshgrid(_splits(geo.out_channels), _splits(geo.out_rows),
                             _splits(geo.in_channels), indexing="ij")
    rows_per_tile = np.ceil(geo.out_rows / ns)
    in_rows = np.minimum(geo.in_rows, (rows_per_tile - 1) * geo.stride + geo.kernel_rows)
    halo = ns * in_rows / max(1, geo.in_rows)  # >= 1: input bytes read once over all row tiles
    out_tile = 0.0 if output_on_chip else output_bytes / (nw * ns)
    need = weight_bytes / (nw * nc) + streamed_in * in_rows / max(1, geo.in_rows) / nc + out_tile
    spill = np.zeros_like(nc) if output_on_chip else output_bytes * (2 * nc - 1)
    costs = {
        "weights-outer": weight_bytes + streamed_in * halo * nw + spill,
        "rows-outer": weight_bytes * ns + streamed_in * halo + spill,
    }
    fits = need <= room
    best = None
    for order, cost in costs.items():
        # when nothing fits, the smallest tiles still run, streaming everything
        masked = np.where(fits, cost, np.inf) if fits.any() else np.where(need == need.min(), cost, np.inf)
        index = np.unravel_index(np.argmin(masked), masked.shape)
        if best is None or masked[index] < best[0]:
            best = (masked[index], order, index)
    _, order, index = best
    w, s, c = nw[index], ns[index], nc[index]
    repeats_w, repeats_in = (1, w) if order == "weights-outer" else (s, 1)
    return Traffic(weights=float(weight_bytes * repeats_w),
                   inputs=float(streamed_in * halo[index] * repeats_in),
                   outputs=float(spill[index]),
                   order=order, tiles=(int(w), int(s), int(c)), fits=bool(fits.any()))
