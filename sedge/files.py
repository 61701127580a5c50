"""Writing output files atomically, so that a failure never leaves a partial file behind.

Shared by every stage (like `sedge.errors`, it imports nothing heavy). An output gets the
mode any new file gets (0666 less the umask, usually 0644), not the 0600 of the temporary
file it is written to, so a package built in a container or CI job is readable by the
board's user or a web server. A write that fails for a reason of the machine (no space,
no permission, a read-only or missing directory) is a one-line SedgeError naming the path.
"""
import contextlib
import errno
import hashlib
import os
import signal
import tempfile
import threading
from pathlib import Path

from sedge.errors import SedgeError

# errors of the machine, not of sedge: reported as one line naming the path
_ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS,
                       errno.ENOTDIR, errno.EEXIST, errno.ENOENT, errno.EISDIR, errno.ENAMETOOLONG}


def _umask() -> int:
    """The process umask, read without changing it where Linux says it (/proc), else set and restored."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _cannot_write(path: Path, err: OSError) -> SedgeError:
    reason = err.strerror or type(err).__name__
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:  # mkdir says "File exists": name the file that is in the way
        reason = f"'{blocker}' is a file, not a directory"
    hint = {errno.ENOSPC: "free some space or write elsewhere", errno.EDQUOT: "free some space or write elsewhere",
            errno.EFBIG: "the file is larger than this system allows; write elsewhere"}.get(
        err.errno, "choose an output path in a writable directory")
    return SedgeError(f"cannot write '{path}': {reason}; {hint}")


@contextlib.contextmanager
def _terminate_as_exit():
    """While an output is written, SIGTERM (a CI job cancelled, `kill`) exits through the
    `finally` that removes the temporary file, as Ctrl-C does; outside, it keeps its default."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def atomic_write(path, write) -> Path:
    """Call write(tmp_path) and move the result to `path` only if it succeeded.

    The temporary file sits next to `path` (same filesystem, so the rename is atomic) and
    keeps its suffix last, for writers that check it (torch.export wants `.pt2`). It gets
    the umask's mode before the rename, so the output appears complete and with its final mode.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    except OSError as err:
        if err.errno in _ENVIRONMENT_ERRNOS:
            raise _cannot_write(path, err) from None
        raise
    os.close(fd)
    try:
        with _terminate_as_exit():
            write(tmp)
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS) or (
                err.errno in _ENVIRONMENT_ERRNOS and err.filename in (tmp, str(path))):
            raise _cannot_write(path, err) from None
        raise
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


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def atomic_write_bytes(path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
