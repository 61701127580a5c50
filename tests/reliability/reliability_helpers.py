"""Shared by the reliability tests: synthetic packages (no compile needed), tar surgery, and
the check every bad-input case makes of what the user sees."""
from __future__ import annotations

import dataclasses
import io
import json
import sysconfig
import tarfile
from pathlib import Path

import numpy as np

from sedge.contract import LayerRecord, Metadata, TensorSpec
from sedge.runtime.package import write_package


def host_elf() -> bytes:
    """A real shared object of this machine: the agent's architecture check reads its ELF header."""
    return next(Path(sysconfig.get_config_var("DESTSHARED")).glob("_json*.so")).read_bytes()


def metadata(params: int = 1) -> Metadata:
    return Metadata(sedge_version="0", tvm_version="0", target={"kind": "llvm"},
                    inputs=[TensorSpec("x", [1, 4])], outputs=[TensorSpec("output_0", [1, 2])], passes=["P"],
                    layers=[LayerRecord("dense_0", "dense", [[1, 4]], [1, 2], [[4, 2]], macs=8, weight_bytes=32)],
                    params=[TensorSpec(f"w{i}", [4, 2]) for i in range(params)])


def make_package(directory: Path, name: str = "p.tar", library: bytes | None = None) -> Path:
    """A well-formed package (current format) with a host ELF library and one weight."""
    directory.mkdir(parents=True, exist_ok=True)
    lib = directory / "mod.so"
    lib.write_bytes(host_elf() if library is None else library)
    path = write_package(directory / name, lib, [np.arange(8, dtype=np.float32).reshape(4, 2)], metadata())
    lib.unlink()
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def write_tar(path: Path, entries: list) -> Path:
    """entries: (name, bytes) regular files, or TarInfo objects (links, directories) as they are."""
    with tarfile.open(path, "w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                name, data = entry
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def link(name: str, target: str, hard: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.LNKTYPE if hard else tarfile.SYMTYPE
    info.linkname = target
    return info


def rewrite(path: Path, out: Path, change=None, meta_change=None, drop=(), add=()) -> Path:
    """A copy of package `path` with member bytes changed (change(name, data) -> data), its
    metadata dict changed (meta_change(dict)), members dropped or added."""
    entries = []
    for name, data in members(path).items():
        if name in drop:
            continue
        if name == "metadata.json" and meta_change:
            meta = json.loads(data)
            meta_change(meta)
            data = json.dumps(meta).encode()
        if change:
            data = change(name, data)
        entries.append((name, data))
    return write_tar(out, entries + list(add))


def v1_package(path: Path, out: Path) -> Path:
    """The package as sedge wrote it before member hashes (format version 1)."""
    def meta_change(meta):
        meta.pop("members")
        meta["format_version"] = 1
    return rewrite(path, out, meta_change=meta_change)


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit code `code`, exactly one line on stderr holding every fragment, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout[-2000:], result.stderr[-4000:])
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and "Warning" not in line]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def replace_meta(**fields):
    def change(meta):
        meta.update(fields)
    return change


__all__ = ["assert_one_line_error", "dataclasses", "flip_last_byte", "host_elf", "link", "make_package", "members",
           "metadata", "replace_meta", "rewrite", "v1_package", "write_tar"]
