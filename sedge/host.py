"""The machine sedge runs on, described once: cores, vector ISA, caches, memory, clock.

Every stage that needs the host reads `this_host()`: the `host` board fills its compute and
cache fields from it, the runtime sizes TVM's thread pool by its physical cores, the CPU
schedules take their cache budget from it when compiling for this machine, and the
benchmark tables print it. Read from Linux (lscpu, /proc/cpuinfo, /sys topology, sysconf);
elsewhere what Python's os and platform modules tell. Like the rest of the ground package,
it imports nothing heavy.
"""
from __future__ import annotations

import functools
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# vector features that decide fp32 lanes, widest first (x86 flags, Arm's `Features`)
_SIMD_BYTES = (("avx512f", 64), ("avx2", 32), ("avx", 32), ("sse2", 16), ("asimd", 16), ("neon", 16))
# a clock for machines that report none (containers, some Arm kernels): a typical core
_DEFAULT_CLOCK_HZ = 2.0e9


@dataclass(frozen=True)
class Cache:
    name: str  # L1d, L2, L3
    size_bytes: int  # one instance
    instances: int  # how many the machine has (per core, per cluster or shared)

    @property
    def total_bytes(self) -> int:
        return self.size_bytes * self.instances


@dataclass(frozen=True)
class Host:
    cpu_name: str
    machine: str  # platform.machine(): x86_64, aarch64, ...
    logical_cpus: int  # the CPUs this process may run on
    physical_cores: int  # of those, distinct cores (SMT siblings counted once)
    flags: frozenset[str] = field(default_factory=frozenset)  # CPU feature flags
    caches: tuple[Cache, ...] = ()
    memory_bytes: int = 0
    clock_hz: float = _DEFAULT_CLOCK_HZ

    @property
    def simd_bytes(self) -> int:
        """The widest vector register the CPU offers, in bytes."""
        return next((size for flag, size in _SIMD_BYTES if flag in self.flags), 8)

    @property
    def vector_isa(self) -> str:
        return next((flag for flag, _ in _SIMD_BYTES if flag in self.flags), "scalar")

    def cache(self, name: str) -> Cache | None:
        return next((c for c in self.caches if c.name == name), None)

    def cache_share_bytes(self, name: str = "L2") -> int | None:
        """The bytes of cache `name` each core may fill while every core works: one
        instance split among the cores that share it."""
        cache = self.cache(name)
        if cache is None:
            return None
        return cache.total_bytes // max(1, self.physical_cores)


@functools.cache
def this_host() -> Host:
    lscpu = _lscpu()
    cpuinfo = _cpuinfo()
    flags = (lscpu.get("Flags") or cpuinfo.get("flags") or cpuinfo.get("Features") or "").split()
    cpus = _usable_cpus()
    return Host(
        cpu_name=lscpu.get("Model name") or cpuinfo.get("model name") or platform.processor() or platform.machine(),
        machine=platform.machine(),
        logical_cpus=len(cpus),
        physical_cores=_physical_cores(cpus),
        flags=frozenset(flags),
        caches=tuple(c for c in (_cache(lscpu, name) for name in ("L1d", "L2", "L3")) if c),
        memory_bytes=_memory_bytes(),
        clock_hz=_clock_hz(lscpu, cpuinfo),
    )


def _usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _physical_cores(cpus: list[int]) -> int:
    """Distinct (package, core) pairs among `cpus`, from Linux's topology; else their count."""
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return max(1, len(cores))


def _lscpu() -> dict[str, str]:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True, timeout=10,
                              env=dict(os.environ, LC_ALL="C")).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())
            if value.strip()}


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields


def _cache(lscpu: dict, name: str) -> Cache | None:
    """lscpu prints e.g. 'L2 cache: 2 MiB (2 instances)': the total over its instances."""
    found = re.match(r"([\d.]+)\s*([KMG])i?B(?:\s*\((\d+) instances?\))?", lscpu.get(f"{name} cache", ""))
    if not found:
        return None
    total = float(found.group(1)) * {"K": 2**10, "M": 2**20, "G": 2**30}[found.group(2)]
    instances = int(found.group(3) or 1)
    return Cache(name, int(total // instances), instances)


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _clock_hz(lscpu: dict, cpuinfo: dict) -> float:
    for text, scale in ((lscpu.get("CPU max MHz"), 1e6), (cpuinfo.get("cpu MHz"), 1e6)):
        try:
            return float(text) * scale
        except (TypeError, ValueError):
            continue
    return _DEFAULT_CLOCK_HZ
