"""The board agent: serves one host over a serial line, runs only packages it validated.

Operations (the "op" of a request): `upload_begin` / `upload_chunk` / `upload_end` move a
package in acknowledged chunks and check its SHA-256 and target; `run` benchmarks a stored
package in a child process; `info` describes the board. Nothing else arrives as code.
"""
from __future__ import annotations

import concurrent.futures
import importlib.metadata
import logging
import multiprocessing
import platform
import socket
import time
from pathlib import Path

from sedge.errors import SedgeError
from sedge.runtime.agent.job import run_job
from sedge.runtime.agent.store import PackageStore
from sedge.runtime.agent.validate import check_runs_here
from sedge.runtime.protocol import BoardSession
from sedge.runtime.transport import DEFAULT_BAUDRATE, SerialTransport, TransportClosed

log = logging.getLogger("sedge.agent")

# Each run gets a fresh child, forked from a server process that has imported the TVM
# runtime once: crash isolation and per-run peak memory without paying the import each time.
_RUNNERS = multiprocessing.get_context("forkserver")
_RUNNERS.set_forkserver_preload(["sedge.runtime.agent.job", "tvm", "tvm.runtime.vm"])


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def board_info() -> dict:
    return {"hostname": socket.gethostname(), "machine": platform.machine(), "system": platform.platform(),
            "python": platform.python_version(), "sedge_version": _version("sedge"),
            "tvm_version": _version("apache-tvm")}


def _integer(fields: dict, name: str, low: int, high: int = 1 << 40) -> int:
    """A request's integer field, checked: a host (or a damaged request) cannot make the board
    fail on int("abc") or start a run of 10**100 repeats."""
    value = fields.get(name, low)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SedgeError(f"bad request field {name}={repr(value)[:40]}; allowed: an integer {low}..{high}")
    return value


class Agent:
    def __init__(self, workdir: Path):
        self.store = PackageStore(Path(workdir))
        self.session: BoardSession | None = None

    def _run(self, fields: dict, blob: bytes, keepalive) -> tuple[dict, bytes]:
        path = self.store.path(fields.get("sha256"))
        for name, low in (("warmup", 0), ("repeat", 1), ("number", 1), ("seed", 0)):
            _integer(fields, name, low)
        for name in ("rtol", "atol"):
            value = fields.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise SedgeError(f"bad run field {name}={value!r}; allowed: a finite number >= 0")
        if not isinstance(fields.get("device", "cpu"), str):
            raise SedgeError(f"bad run field device={fields.get('device')!r}; allowed: cpu, cuda")
        self.session.log(f"running {path.name[:12]}: warmup {fields.get('warmup')}, "
                         f"repeat {fields.get('repeat')} x number {fields.get('number')}")
        pool = concurrent.futures.ProcessPoolExecutor(1, _RUNNERS, max_tasks_per_child=1)
        try:
            future = pool.submit(run_job, str(path), fields, blob)
            while True:
                try:
                    return future.result(timeout=self.session.poll)
                except concurrent.futures.TimeoutError:
                    keepalive()
                except concurrent.futures.process.BrokenProcessPool:
                    raise SedgeError("the package crashed the runner process (see the board's log)") from None
        finally:
            pool.shutdown(wait=False)  # the reply need not wait for the child's teardown

    def _upload_end(self, fields: dict) -> dict:
        from sedge.runtime.package import open_package

        path = self.store.finish(fields.get("sha256"))
        try:
            package = open_package(path)
            check_runs_here(package.metadata.target, package.library_path)
        except SedgeError:
            path.unlink()  # only validated packages stay in the store
            raise
        self.session.log(f"stored package {path.name[:12]} ({path.stat().st_size} bytes)")
        return {"sha256": package.sha256, "target": package.metadata.target,
                "inputs": [vars(spec) for spec in package.metadata.inputs]}

    def handle(self, fields: dict, blob: bytes, keepalive) -> tuple[dict, bytes]:
        op = fields.get("op")
        log.info("request %s", op)
        if op == "info":
            return board_info(), b""
        if op == "upload_begin":
            return {"offset": self.store.begin(fields.get("sha256"), fields.get("size"))}, b""
        if op == "upload_chunk":
            return {"offset": self.store.append(fields.get("sha256"), _integer(fields, "offset", 0), blob)}, b""
        if op == "upload_end":
            return self._upload_end(fields), b""
        if op == "run":
            result, outputs = self._run(fields, blob, keepalive)
            return result | {"board_faults": self.session.channel.faults.as_dict()}, outputs
        raise SedgeError(f"unknown request '{op}'; allowed: info, upload_begin, upload_chunk, upload_end, run")


def serve(port: str, workdir: Path, baudrate: int = DEFAULT_BAUDRATE, keepalive: float = 0.5,
          stop=lambda: False) -> None:
    """Serve hosts on `port` until `stop()` is true; reopen the port if the device goes away."""
    agent = Agent(workdir)
    runners_ready = False
    while not stop():
        transport = SerialTransport(port, baudrate)
        try:
            transport.open()
            if not runners_ready:  # start the runner server now, not during a request (but after a bad port)
                with concurrent.futures.ProcessPoolExecutor(1, _RUNNERS) as pool:
                    pool.submit(platform.machine).result()
                runners_ready = True
            log.info("sedge agent listening on %s (workdir %s)", port, workdir)
            agent.session = BoardSession(transport, agent.handle, board_info(), poll=keepalive)
            while not stop():
                agent.session.serve_one()
        except TransportClosed as err:
            log.warning("%s; reopening in 1 s", err)
            time.sleep(1.0)
        finally:
            transport.close()
