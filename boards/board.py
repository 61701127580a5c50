"""The typed board a validated board file becomes; hardware models read only this."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemoryLevel:
    """One memory: an on-chip SRAM level (capacity one layer can use) or the DRAM."""

    name: str
    size_bytes: float
    bandwidth_gbps: float  # 10^9 bytes per second
    read_pj_per_byte: float
    write_pj_per_byte: float
    type: str = ""


@dataclass(frozen=True)
class Compute:
    units: int  # cores, SMs or PEs
    clock_hz: float
    macs_per_cycle: dict  # per unit, by precision
    adds_per_cycle: dict  # per unit, by precision
    target: str  # the TVM target a package for this board is compiled with
    # operands the datapath holds between MACs (vector registers); 0: every MAC reads its
    # operands from the innermost SRAM level, as an Eyeriss PE does from its register file
    register_bytes: float = 0
    # fixed time to start each kernel (a fused layer group): dispatch, thread-pool wake-up
    launch_overhead_s: float = 0
    # the fraction of the peak MAC / add rate compiled kernels reach on this board (a direct
    # conv measured against macs_per_cycle); 1: the peak
    efficiency: float = 1.0


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    kind: str
    compute: Compute
    sram: tuple[MemoryLevel, ...]  # innermost first; the last one is what DRAM tiling fills
    dram: MemoryLevel
    node_nm: float
    mult_pj: dict = field(default_factory=dict)  # overrides of the scaled Horowitz table
    add_pj: dict = field(default_factory=dict)
    transport: dict = field(default_factory=dict)
    source: str = ""

    @property
    def buffer(self) -> MemoryLevel:
        """The last on-chip level: the buffer the DRAM tiling model has to fit in."""
        return self.sram[-1]

    @classmethod
    def from_dict(cls, name: str, data: dict, source: str) -> "Board":
        memory, energy = data["memory"], data["energy"]
        return cls(
            name=name,
            description=data["description"],
            kind=data["kind"],
            compute=Compute(**data["compute"]),
            sram=tuple(MemoryLevel(**level) for level in memory["sram"]),
            dram=MemoryLevel(**memory["dram"]),
            node_nm=energy["node_nm"],
            mult_pj=dict(energy.get("mult_pj", {})),
            add_pj=dict(energy.get("add_pj", {})),
            transport=dict(data["transport"]),
            source=source,
        )
