"""Whether a package may run on this board: the library's ELF machine and the target triple.

The ELF header of the compiled library is the ground truth (metadata could be edited; the
machine code cannot lie about its architecture); the target's `mtriple`, when there is one,
must agree with it, so a mislabelled package is refused too.
"""
from __future__ import annotations

import platform
import struct
from pathlib import Path

from sedge.errors import SedgeError

# ELF e_machine values, and the names platform.machine() / LLVM triples use for them
_ELF_MACHINES = {62: "x86_64", 183: "aarch64", 40: "arm", 243: "riscv64"}
_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64",
            "riscv64": "riscv64"}


def arch_name(machine: str) -> str:
    """Normalise a platform.machine() or triple architecture ('armv7l', 'arm64') to the ELF names above."""
    machine = machine.lower()
    if machine.startswith(("armv", "thumbv")) or machine == "arm":
        return "arm"
    return _ALIASES.get(machine, machine)


def elf_arch(library: Path) -> str:
    with open(library, "rb") as f:
        header = f.read(20)
    if len(header) < 20 or header[:4] != b"\x7fELF":
        raise SedgeError(f"the package's library {Path(library).name} is not an ELF shared object")
    endian = "<" if header[5] == 1 else ">"
    machine = struct.unpack(endian + "H", header[18:20])[0]
    return _ELF_MACHINES.get(machine, f"ELF machine {machine}")


def check_runs_here(target: dict, library: Path, machine: str | None = None) -> None:
    """Raise a SedgeError naming both sides unless the package's code runs on `machine`."""
    here = arch_name(machine or platform.machine())
    built = elf_arch(library)
    if built != here:
        raise SedgeError(f"package built for {built}, this board is {here}; compile with "
                         f"--target \"llvm -mtriple=<{here} triple>\" and the matching --cross-compiler")
    triple = target.get("mtriple") or (target.get("host") or {}).get("mtriple")
    if triple and arch_name(triple.split("-")[0]) != built:
        raise SedgeError(f"package target triple '{triple}' does not match its {built} library")
    if target.get("kind") not in ("llvm", "cuda"):
        raise SedgeError(f"package target kind '{target.get('kind')}' cannot run here; allowed: llvm, cuda")
