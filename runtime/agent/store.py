"""The agent's package store: resumable uploads checked by SHA-256 before anything uses them.

A partial upload lives in `<workdir>/partial/<sha256>.part` and survives a lost session, so
the host can resume where the last acknowledged chunk ended; a finished upload is renamed
to `<workdir>/packages/<sha256>.tar` only once its hash matches the one the host declared.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from sedge.errors import SedgeError
from sedge.files import sha256_file

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PackageStore:
    def __init__(self, workdir: Path, max_bytes: int = 2 << 30):
        self.partial = Path(workdir) / "partial"
        self.packages = Path(workdir) / "packages"
        try:
            self.partial.mkdir(parents=True, exist_ok=True)
            self.packages.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise SedgeError(f"cannot create the agent's store in '{workdir}': {err.strerror}; "
                             "give --workdir a directory the agent can write") from None
        self.max_bytes = max_bytes

    def _checked(self, sha256: str) -> str:
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise SedgeError(f"bad package hash '{sha256}'; expected 64 lowercase hex digits (SHA-256)")
        return sha256

    def path(self, sha256: str) -> Path:
        """The stored package with this hash; an error if it was never fully uploaded."""
        path = self.packages / f"{self._checked(sha256)}.tar"
        if not path.is_file():
            raise SedgeError(f"no package {sha256[:12]} on the board; upload it first")
        return path

    def begin(self, sha256: str, size: int) -> int:
        """Start or resume an upload; return how many bytes the board already holds."""
        if (self.packages / f"{self._checked(sha256)}.tar").is_file():
            return size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= self.max_bytes:
            raise SedgeError(f"bad package size {size}; allowed: 1 to {self.max_bytes} bytes")
        part = self.partial / f"{sha256}.part"
        have = part.stat().st_size if part.is_file() else 0
        if have > size:
            part.unlink()
            have = 0
        return have

    def append(self, sha256: str, offset: int, data: bytes) -> int:
        """Write a chunk that starts at `offset`; return the new length (what the host resumes from).

        A repeated chunk (offset below the length) is acknowledged without writing it twice;
        a chunk past the end is refused by acknowledging the real length.
        """
        if (self.packages / f"{self._checked(sha256)}.tar").is_file():
            return offset + len(data)
        part = self.partial / f"{sha256}.part"
        have = part.stat().st_size if part.is_file() else 0
        if offset == have and have + len(data) <= self.max_bytes:
            with open(part, "ab") as f:
                f.write(data)
            have += len(data)
        return have

    def finish(self, sha256: str) -> Path:
        """Check the hash of the complete upload and move it into the store."""
        final = self.packages / f"{self._checked(sha256)}.tar"
        if final.is_file():
            return final
        part = self.partial / f"{sha256}.part"
        if not part.is_file():
            raise SedgeError(f"no upload of {sha256[:12]} in progress")
        actual = sha256_file(part)
        if actual != sha256:
            part.unlink()
            raise SedgeError(f"package integrity check failed: received SHA-256 {actual[:12]}, "
                             f"declared {sha256[:12]}; upload it again")
        os.replace(part, final)
        return final
