"""The sedge package: one .tar holding the compiled library, the weights and metadata.json.

    metadata.json   format name/version, versions, target, inputs/outputs, passes, layers,
                    and the SHA-256 of every other member ("members", format version 2)
    mod.so          the compiled library (`export_library`); `mod.tar` objects when no
                    linker for the target was given
    params.npz      the weights in the order `main` takes them: param_0, param_1, ...

Written atomically: everything goes to a temporary file next to the destination, which is
renamed into place only when complete, so a failed compile leaves no file behind.

Read strictly, on the host and by the board agent alike: the tar may hold exactly these
regular files (no links, directories, `..` or absolute names, no duplicates), every member
must be complete, and each one's SHA-256 must match metadata.json's. A version 1 package
(before the hashes) is still read, with the same member checks but no hash check.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sedge.contract import Metadata
from sedge.errors import SedgeError
from sedge.files import atomic_write

LIBRARY_NAMES = ("mod.so", "mod.tar")
MEMBER_NAMES = ("metadata.json", "params.npz", *LIBRARY_NAMES)
_HOLDS = f"metadata.json, params.npz and one of {', '.join(LIBRARY_NAMES)}"


@dataclass
class Package:
    path: Path
    metadata: Metadata
    params: list[np.ndarray]
    library_path: Path  # extracted into `workdir`
    sha256: str
    workdir: tempfile.TemporaryDirectory


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_package(path, library_file, params: list[np.ndarray], metadata: Metadata) -> Path:
    library_file = Path(library_file)
    if library_file.name not in LIBRARY_NAMES:
        raise ValueError(f"library must be named one of {LIBRARY_NAMES}")

    def add_bytes(tar, name, data: bytes):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))

    def write(tmp):
        buffer = io.BytesIO()
        np.savez(buffer, **{f"param_{i}": p for i, p in enumerate(params)})
        members = {library_file.name: library_file.read_bytes(), "params.npz": buffer.getvalue()}
        hashed = dataclasses.replace(metadata, members={name: _sha256(data) for name, data in members.items()})
        with tarfile.open(tmp, "w") as tar:
            add_bytes(tar, "metadata.json", hashed.to_json().encode())
            for name, data in members.items():
                add_bytes(tar, name, data)

    atomic_write(path, write)
    return Path(path)


def _members(path: Path, data: bytes) -> dict[str, bytes]:
    """The package's members by name, after checking that they are exactly what a package holds."""
    where = f"'{path}'"
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
        infos = tar.getmembers()
    except (tarfile.TarError, EOFError, ValueError, OverflowError):
        raise SedgeError(f"{where} is not a sedge package (not a tar file); "
                         "compile one with `sedge compile`") from None
    if not infos:
        raise SedgeError(f"{where} is not a sedge package: it is an empty tar; it must hold {_HOLDS}")
    members = {}
    for info in infos:
        name = info.name
        if name not in MEMBER_NAMES:
            shown = name if len(name) <= 60 else name[:57] + "..."
            raise SedgeError(f"{where} is not a sedge package: unexpected member {shown!r}; "
                             f"a package holds only {_HOLDS}")
        if not info.isreg():
            kind = "a link" if info.issym() or info.islnk() else "not a regular file"
            raise SedgeError(f"{where} is not a sedge package: member {name} is {kind}; "
                             "a package holds only regular files")
        if name in members:
            raise SedgeError(f"{where} is damaged: member {name} appears twice")
        try:
            content = tar.extractfile(info).read()
        except (tarfile.TarError, EOFError, OSError, ValueError):
            content = None
        if content is None or len(content) != info.size:
            raise SedgeError(f"{where} is truncated or damaged: member {name} is incomplete; compile it again")
        members[name] = content
    libraries = [n for n in LIBRARY_NAMES if n in members]
    if "metadata.json" not in members or "params.npz" not in members or len(libraries) != 1:
        raise SedgeError(f"{where} is not a sedge package: it must hold {_HOLDS}")
    return members


def open_package(path) -> Package:
    """Read and check a package; the library is written to a temporary directory."""
    path = Path(path)
    if not path.is_file():
        raise SedgeError(f"package '{path}' does not exist")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SedgeError(f"cannot read package '{path}': {err.strerror}") from None
    members = _members(path, data)
    try:
        text = members["metadata.json"].decode()
    except UnicodeDecodeError:
        raise SedgeError(f"'{path}:metadata.json' is not UTF-8 text; the package is damaged") from None
    metadata = Metadata.from_json(text, f"{path}:metadata.json")
    library = next(n for n in LIBRARY_NAMES if n in members)
    if metadata.format_version >= 2:
        listed = set(metadata.members)
        if listed != set(members) - {"metadata.json"}:
            raise SedgeError(f"'{path}' is damaged or was altered: metadata.json lists members {sorted(listed)}, "
                             f"the tar holds {sorted(set(members) - {'metadata.json'})}")
        for name in sorted(listed):
            actual = _sha256(members[name])
            if actual != metadata.members[name]:
                raise SedgeError(f"'{path}' is damaged or was altered: {name} has SHA-256 {actual[:12]}..., "
                                 f"metadata.json records {metadata.members[name][:12]}...; compile it again")
    try:
        with np.load(io.BytesIO(members["params.npz"]), allow_pickle=False) as npz:
            params = [npz[f"param_{i}"] for i in range(len(npz.files))]
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile, NotImplementedError):
        raise SedgeError(f"'{path}' is damaged: params.npz is not a readable weights archive "
                         "(param_0, param_1, ...)") from None
    if len(params) != len(metadata.params):
        raise SedgeError(f"'{path}' is damaged: {len(params)} weights stored, metadata lists {len(metadata.params)}")
    for i, (param, spec) in enumerate(zip(params, metadata.params)):
        if list(param.shape) != list(spec.shape) or str(param.dtype) != spec.dtype:
            raise SedgeError(f"'{path}' is damaged: weight {i} is {param.dtype}{list(param.shape)}, "
                             f"metadata lists {spec.dtype}{list(spec.shape)}")
    workdir = tempfile.TemporaryDirectory(prefix="sedge-pkg-")
    library_path = Path(workdir.name) / library
    library_path.write_bytes(members[library])
    return Package(path, metadata, params, library_path, _sha256(data), workdir)
