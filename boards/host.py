"""Fills the `host` board's compute and cache fields from this machine (sedge.host).

Only what the machine can tell is detected: cores, clock, cache sizes, SIMD width (hence
MACs per cycle and vector register bytes) and the LLVM target. DRAM bandwidth and energies stay in host.toml.
"""
from sedge.contract import PRECISION_BYTES
from sedge.host import Host, this_host

# Two FMA pipes per core is what current x86 and big ARM cores have; a MAC is one FMA lane.
_FMA_PIPES = 2


def detect(data: dict, host: Host | None = None) -> dict:
    host = host or this_host()
    simd_bytes = host.simd_bytes
    cores = host.physical_cores
    compute = dict(data.get("compute", {}))
    compute["units"] = cores
    compute["clock_hz"] = host.clock_hz
    lanes = {p: simd_bytes // size * _FMA_PIPES for p, size in PRECISION_BYTES.items()}
    compute["macs_per_cycle"] = lanes
    compute["adds_per_cycle"] = lanes
    compute["target"] = _target(host)
    compute["register_bytes"] = simd_bytes * (32 if simd_bytes == 64 else 16) * cores
    memory = dict(data.get("memory", {}))
    memory["sram"] = [_with_size(level, _own_cache(host, level["name"])) for level in memory.get("sram", [])]
    return dict(data, compute=compute, memory=memory,
                description=f"this machine: {host.cpu_name}, {cores} cores, {simd_bytes * 8}-bit SIMD")


def _own_cache(host: Host, name: str):
    """The cache `name` this machine can count on. Under a hypervisor the last-level cache
    lscpu reports is the physical socket's, shared with tenants the guest cannot see (480 MiB
    on a 2-core guest here, where weights of 64 MiB already stream at DRAM speed): the board
    file's size, measured, stands instead (None)."""
    if name == "L3" and "hypervisor" in host.flags:
        return None
    return host.cache(name)


def _with_size(level: dict, cache) -> dict:
    return dict(level, size_bytes=cache.total_bytes) if cache else dict(level)


def _target(host: Host) -> str:
    if host.machine in ("aarch64", "arm64"):
        return "llvm -mtriple=aarch64-linux-gnu -mattr=+neon"
    return {64: "llvm -mcpu=x86-64-v4", 32: "llvm -mcpu=x86-64-v3"}.get(host.simd_bytes, "llvm")
