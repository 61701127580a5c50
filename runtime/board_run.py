"""The host side of a serial board: upload a package to `sedge agent`, run it, collect results.

The upload resumes: the board keeps what it acknowledged, so after a lost line the next
call continues from the last acknowledged chunk instead of starting again.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Callable

import numpy as np

from sedge.errors import SedgeError
from sedge.runtime.agent.job import pack_arrays, unpack_arrays
from sedge.runtime.agent.validate import arch_name
from sedge.runtime.device_result import DeviceResult
from sedge.runtime.protocol import BoardError, HostSession
from sedge.runtime.stats import TimingStats
from sedge.runtime.transport import DEFAULT_BAUDRATE, make_transport

DEFAULT_CHUNK_BYTES = 4096


def board_link(board_name: str | None) -> dict:
    """A shipped or user board file's transport fields, plus the architecture its target implies."""
    if board_name is None:
        return {}
    from sedge.boards import load_board

    board = load_board(board_name)
    triple = re.search(r"-mtriple=([\w.]+)", board.compute.target)
    return dict(board.transport) | {"name": board.name, "arch": arch_name(triple.group(1).split("-")[0])
                                    if triple else None}


def _upload(session: HostSession, data: bytes, sha256: str, chunk_bytes: int,
            progress: Callable[[int, int], None] | None) -> dict:
    size = len(data)
    offset = resumed_from = session.request("upload_begin", {"sha256": sha256, "size": size})[0]["offset"]
    sent = 0
    stuck = 0
    while offset < size:
        chunk = data[offset:offset + chunk_bytes]
        acked = session.request("upload_chunk", {"sha256": sha256, "offset": offset}, chunk)[0]["offset"]
        sent += len(chunk)
        stuck = stuck + 1 if acked <= offset else 0
        if stuck > session.retries or not 0 <= acked <= size:
            raise BoardError(f"the board does not accept the upload at byte {offset} (it acknowledged {acked})")
        offset = acked
        if progress:
            progress(offset, size)
    info = session.request("upload_end", {"sha256": sha256})[0]
    return {"bytes": size, "resumed_from": resumed_from, "sent": sent, "target": info["target"]}


def _run_package(session: HostSession, path: Path, where: str, chunk_bytes: int,
                 progress: Callable[[int, int], None] | None, *, warmup: int = 1, repeat: int = 10, number: int = 1,
                 inputs: dict[str, np.ndarray] | None = None, expected: list[np.ndarray] | None = None,
                 return_outputs: bool = False, rtol: float | None = None, atol: float | None = None,
                 seed: int = 0) -> DeviceResult:
    if not path.is_file():
        raise SedgeError(f"package '{path}' does not exist")
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    upload = _upload(session, data, sha256, chunk_bytes, progress)
    request = {"sha256": sha256, "warmup": warmup, "repeat": repeat, "number": number, "seed": seed,
               "return_outputs": return_outputs}
    request |= {k: v for k, v in (("rtol", rtol), ("atol", atol)) if v is not None}
    arrays = {f"input:{k}": np.asarray(v) for k, v in (inputs or {}).items()}
    arrays |= {f"expected:{i}": np.asarray(v) for i, v in enumerate(expected or [])}
    result, blob = session.request("run", request, pack_arrays(arrays) if arrays else b"")
    outputs = unpack_arrays(blob)
    return DeviceResult(
        package=str(path), sha256=sha256, target=result["package"]["target"], device=f"serial {where}",
        board=session.board, versions={k: result["package"][k] for k in ("sedge_version", "tvm_version")},
        stats=TimingStats(tuple(result["samples_ms"])), first_run_ms=result["first_run_ms"],
        load_s=result["load_s"], memory_kb=result["memory_kb"], check=result.get("check"),
        faults=session.faults.as_dict(), board_faults=result["board_faults"],
        outputs=[outputs[f"output:{i}"] for i in range(len(outputs))] if return_outputs else None,
        upload={k: v for k, v in upload.items() if k != "target"})


def bench_on_board(packages: list, port, *, board: str | None = None, baudrate: int | None = None,
                   timeout: float = 3.0, retries: int = 3, chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                   progress: Callable[[int, int], None] | None = None, on_log: Callable[[str, str], None] | None = None,
                   on_keepalive: Callable[[], None] | None = None, **run_options) -> list[DeviceResult]:
    """Upload each package to the agent on `port` (a pyserial URL or open port) and benchmark it,
    in one session; `run_options` are `_run_package`'s (warmup, repeat, number, inputs, ...).
    Fault counts are the session's so far, so the last result holds them all."""
    from sedge.runtime.package import open_package

    for package in packages:  # before the line is opened: no session waits on a typo or a damaged file
        open_package(package).workdir.cleanup()  # members and their SHA-256, as the board will check them
    link = board_link(board)
    transport = make_transport(port, baudrate=baudrate or link.get("baud") or DEFAULT_BAUDRATE)
    with transport:
        session = HostSession(transport, timeout=timeout, retries=retries, on_log=on_log, on_keepalive=on_keepalive)
        try:
            info = session.start()
            if link.get("arch") and arch_name(info.get("machine", "")) != link["arch"]:
                raise BoardError(f"board '{link['name']}' is {link['arch']}, but the agent on {transport.url} "
                                 f"runs on {info.get('machine')}")
            return [_run_package(session, Path(p), transport.url, chunk_bytes, progress, **run_options)
                    for p in packages]
        finally:
            session.close()


def run_on_board(package, port, **options) -> DeviceResult:
    """One package on the agent on `port`; the options are `bench_on_board`'s."""
    return bench_on_board([package], port, **options)[0]
