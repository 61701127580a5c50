"""Fills the `host` board's compute and cache fields from this machine (lscpu, /proc, os).

Only what the machine can tell is detected: cores, clock, cache sizes, SIMD width (hence
MACs per cycle and vector register bytes) and the LLVM target. DRAM bandwidth and energies stay in host.toml.
"""
import os
import platform
import re
import subprocess

# Two FMA pipes per core is what current x86 and big ARM cores have; a MAC is one FMA lane.
_FMA_PIPES = 2
_ELEMENT_BYTES = {"int8": 1, "fp16": 2, "fp32": 4}


def detect(data: dict) -> dict:
    info = _lscpu()
    flags = set(info.get("Flags", "").split())
    simd_bytes = 64 if "avx512f" in flags else 32 if "avx2" in flags else 16
    cores = int(info.get("CPU(s)", os.cpu_count() or 1))
    compute = dict(data.get("compute", {}))
    compute["units"] = cores
    compute["clock_hz"] = _clock_hz(info)
    lanes = {p: simd_bytes // size * _FMA_PIPES for p, size in _ELEMENT_BYTES.items()}
    compute["macs_per_cycle"] = lanes
    compute["adds_per_cycle"] = lanes
    compute["target"] = _target(simd_bytes)
    compute["register_bytes"] = simd_bytes * (32 if simd_bytes == 64 else 16) * cores
    memory = dict(data.get("memory", {}))
    memory["sram"] = [_with_size(level, _cache_bytes(info, level["name"]))
                      for level in memory.get("sram", [])]
    return dict(data, compute=compute, memory=memory,
                description=f"this machine: {info.get('Model name', platform.processor())}, "
                            f"{cores} cores, {simd_bytes * 8}-bit SIMD")


def _lscpu() -> dict:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True,
                              env=dict(os.environ, LC_ALL="C")).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in text.splitlines()) if value}


def _clock_hz(info: dict) -> float:
    if "CPU max MHz" in info:
        return float(info["CPU max MHz"]) * 1e6
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            found = re.search(r"cpu MHz\s*:\s*([\d.]+)", cpuinfo.read())
        if found:
            return float(found.group(1)) * 1e6
    except OSError:
        pass
    return 2.0e9  # no clock reported (containers, some ARM kernels): a typical core


def _cache_bytes(info: dict, name: str) -> float | None:
    """lscpu prints e.g. 'L2 cache: 2 MiB (2 instances)': the total over instances."""
    found = re.match(r"([\d.]+)\s*([KMG]i?B)", info.get(f"{name} cache", ""))
    if not found:
        return None
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}[found.group(2)[0]]
    return float(found.group(1)) * scale


def _with_size(level: dict, size: float | None) -> dict:
    return dict(level, size_bytes=size) if size else dict(level)


def _target(simd_bytes: int) -> str:
    if platform.machine() in ("aarch64", "arm64"):
        return "llvm -mtriple=aarch64-linux-gnu -mattr=+neon"
    return {64: "llvm -mcpu=x86-64-v4", 32: "llvm -mcpu=x86-64-v3"}.get(simd_bytes, "llvm")
