"""The estimate as data: one `LayerEstimate` per layer, summed into an `Estimate`.

Everything is plain numbers in dicts keyed by memory or operation name, so totals are
sums, savings are ratios, and JSON is `dataclasses.asdict`.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field


@dataclass
class LayerEstimate:
    name: str
    op: str
    mode: str  # how a CSG layer is deployed on this board ("generate" / "materialised")
    macs: float
    adds: float
    dram_bytes: dict  # weights / inputs / outputs
    accesses: dict  # memory name -> {"reads": bytes, "writes": bytes}
    energy_pj: dict  # "mult", "add", then one entry per memory
    cycles: dict  # "compute", then one entry per memory
    launch_cycles: float  # the board's per-kernel overhead; 0 for a layer fused into its producer
    order: str
    tiles: tuple

    @classmethod
    def build(cls, record, mode, counts, board, precision, dram, accesses, op_energy, order, tiles, fused,
              kernel_cycles=None):
        """`kernel_cycles`: a kernel's own compute bound (replacing the board's peak rate) and
        extra bounds (its scratch passes through the cache level that holds them), where the
        kernel does not run at the board's peak (hw_models/transforms.py)."""
        mult_pj, add_pj = op_energy
        memories = list(board.sram) + [board.dram]
        energy = {"mult": counts.macs * mult_pj, "add": (counts.macs + counts.adds) * add_pj}
        rate = board.compute.units * board.compute.efficiency
        cycles = {"compute": counts.macs / (rate * board.compute.macs_per_cycle[precision])
                  + counts.adds / (rate * board.compute.adds_per_cycle[precision])}
        for memory in memories:
            moved = accesses[memory.name]
            energy[memory.name] = moved["reads"] * memory.read_pj_per_byte + moved["writes"] * memory.write_pj_per_byte
            bytes_per_cycle = memory.bandwidth_gbps * 1e9 / board.compute.clock_hz
            cycles[memory.name] = (moved["reads"] + moved["writes"]) / bytes_per_cycle
        cycles.update(kernel_cycles or {})
        return cls(name=record.name, op=record.op, mode=mode, macs=counts.macs, adds=counts.adds,
                   dram_bytes=dram, accesses=accesses, energy_pj=energy, cycles=cycles,
                   launch_cycles=0.0 if fused else board.compute.launch_overhead_s * board.compute.clock_hz,
                   order=order, tiles=tuple(tiles))

    @property
    def total_cycles(self) -> float:
        """Compute and every memory overlap, so the slowest of them sets the layer's time."""
        return max(self.cycles.values()) + self.launch_cycles

    @property
    def bound(self) -> str:
        return max(self.cycles, key=self.cycles.get)

    @property
    def total_dram_bytes(self) -> float:
        return sum(self.dram_bytes.values())

    @property
    def total_energy_pj(self) -> float:
        return sum(self.energy_pj.values())


@dataclass
class Estimate:
    board: str
    precision: str
    clock_hz: float
    layers: list[LayerEstimate]
    parameter_bytes: float  # what the board stores in DRAM: also the host -> device transfer
    model: str = ""
    baseline: "Estimate | None" = field(default=None, repr=False)

    def totals(self) -> dict:
        cycles = sum(layer.total_cycles for layer in self.layers)
        return {
            "macs": sum(layer.macs for layer in self.layers),
            "adds": sum(layer.adds for layer in self.layers),
            "parameter_bytes": self.parameter_bytes,
            "dram_bytes": _sum_dicts(layer.dram_bytes for layer in self.layers),
            "dram_bytes_total": sum(layer.total_dram_bytes for layer in self.layers),
            "accesses": {name: _sum_dicts(layer.accesses[name] for layer in self.layers)
                         for name in (self.layers[0].accesses if self.layers else {})},
            "energy_pj": _sum_dicts(layer.energy_pj for layer in self.layers),
            "energy_pj_total": sum(layer.total_energy_pj for layer in self.layers),
            "cycles": cycles,
            "latency_s": cycles / self.clock_hz,
        }

    def savings(self) -> dict | None:
        """Baseline over this model: how many times fewer bytes, joules and seconds."""
        if self.baseline is None:
            return None
        mine, base = self.totals(), self.baseline.totals()
        return {key: base[key] / mine[key] if mine[key] else None
                for key in ("parameter_bytes", "dram_bytes_total", "energy_pj_total", "latency_s")}

    def to_dict(self) -> dict:
        layers = [dict(dataclasses.asdict(layer), total_cycles=layer.total_cycles, bound=layer.bound)
                  for layer in self.layers]
        return {"model": self.model, "board": self.board, "precision": self.precision,
                "clock_hz": self.clock_hz, "totals": self.totals(), "layers": layers,
                "baseline": self.baseline.to_dict() if self.baseline else None,
                "savings": self.savings()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def _sum_dicts(dicts) -> dict:
    total = {}
    for d in dicts:
        for key, value in d.items():
            total[key] = total.get(key, 0.0) + value
    return total
