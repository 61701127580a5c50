"""Writing output files atomically, so that a failure never leaves a partial file behind.

Shared by every stage (like `sedge.errors`, it imports nothing heavy).
"""
import hashlib
import os
import tempfile
from pathlib import Path


def atomic_write(path, write) -> Path:
    """Call write(tmp_path) and move the result to `path` only if it succeeded.

    The temporary file sits next to `path` (same filesystem, so the rename is atomic) and
    keeps its suffix last, for writers that check it (torch.export wants `.pt2`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def sha256_file(path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (packages and models can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
