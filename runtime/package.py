"""The sedge package: one .tar holding the compiled library, the weights and metadata.json.

    metadata.json   format name/version, versions, target, inputs/outputs, passes, layers
    mod.so          the compiled library (`export_library`); `mod.tar` objects when no
                    linker for the target was given
    params.npz      the weights in the order `main` takes them: param_0, param_1, ...

Written atomically: everything goes to a temporary file next to the destination, which is
renamed into place only when complete, so a failed compile leaves no file behind.
"""
from __future__ import annotations

import hashlib
import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sedge.errors import SedgeError
from sedge.files import atomic_write
from sedge.contract import Metadata

LIBRARY_NAMES = ("mod.so", "mod.tar")


@dataclass
class Package:
    path: Path
    metadata: Metadata
    params: list[np.ndarray]
    library_path: Path  # extracted into `workdir`
    sha256: str
    workdir: tempfile.TemporaryDirectory


def write_package(path, library_file, params: list[np.ndarray], metadata: Metadata) -> Path:
    library_file = Path(library_file)
    if library_file.name not in LIBRARY_NAMES:
        raise ValueError(f"library must be named one of {LIBRARY_NAMES}")

    def add_bytes(tar, name, data: bytes):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))

    def write(tmp):
        buffer = io.BytesIO()
        np.savez(buffer, **{f"param_{i}": p for i, p in enumerate(params)})
        with tarfile.open(tmp, "w") as tar:
            add_bytes(tar, "metadata.json", metadata.to_json().encode())
            tar.add(library_file, arcname=library_file.name)
            add_bytes(tar, "params.npz", buffer.getvalue())

    atomic_write(path, write)
    return Path(path)


def open_package(path) -> Package:
    """Read and check a package; the library is extracted to a temporary directory."""
    path = Path(path)
    if not path.is_file():
        raise SedgeError(f"package '{path}' does not exist")
    data = path.read_bytes()
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data))
        names = set(tar.getnames())
    except tarfile.TarError:
        raise SedgeError(f"'{path}' is not a sedge package (not a tar file); compile one with `sedge compile`") from None
    library = next((n for n in LIBRARY_NAMES if n in names), None)
    if "metadata.json" not in names or "params.npz" not in names or library is None:
        raise SedgeError(f"'{path}' is not a sedge package: it must hold metadata.json, params.npz and "
                         f"one of {', '.join(LIBRARY_NAMES)}")
    metadata = Metadata.from_json(tar.extractfile("metadata.json").read().decode(), f"{path}:metadata.json")
    with np.load(io.BytesIO(tar.extractfile("params.npz").read())) as npz:
        params = [npz[f"param_{i}"] for i in range(len(npz.files))]
    if len(params) != len(metadata.params):
        raise SedgeError(f"'{path}' is damaged: {len(params)} weights stored, metadata lists {len(metadata.params)}")
    workdir = tempfile.TemporaryDirectory(prefix="sedge-pkg-")
    # the "data" filter refuses links and absolute paths; Python < 3.11.4 (Raspberry Pi OS
    # bookworm has 3.11.2) has no filters, and the member name was checked above
    tar.extract(library, workdir.name, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return Package(path, metadata, params, Path(workdir.name) / library, hashlib.sha256(data).hexdigest(), workdir)
