"""Serial soak: 10,000 frames between sedge's host session and the real board agent over a
pty pair, with random faults on the line, and one forced disconnect in the middle of an upload.

    python -m benchmarks.serial_soak [--frames 10000] [--corrupt 0.01] [--drop 0.001] [--seed 0] [--json FILE]

Two pseudo-terminals joined by a relay thread stand for the cable: the host side opens one
with pyserial, the agent (`Agent` and `BoardSession`, as `sedge agent` runs them, in a
thread) the other. The relay cuts the byte stream into frames and, per frame, flips one bit
of a random byte with probability --corrupt and deletes a random byte with probability
--drop (rates per frame, both directions). Once, halfway through the run and in the middle
of a package upload, it cuts the line: every byte is lost until the host gives up on its
session, reconnects and resumes the upload from what the board acknowledged.

The host alternates package uploads (512-byte chunks, each package new, checked by the
board's SHA-256 on arrival and compared byte for byte with what was sent) and echo
requests (random blobs the board hashes and returns reversed; the host checks both). A
wrong result is any answer that differs from what the board must have said: it must be 0.
Printed at the end (and written with --json): frames relayed, faults injected by kind,
faults detected (by the framing and message checks, both sides), retries, timeouts,
resumed uploads, wrong results.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import select
import struct
import sys
import sysconfig
import tempfile
import threading
import time
import tty
from pathlib import Path

import numpy as np

from sedge.contract import LayerRecord, Metadata, TensorSpec
from sedge.errors import SedgeError
from sedge.runtime.agent.server import Agent
from sedge.runtime.board_run import _upload
from sedge.runtime.package import write_package
from sedge.runtime.protocol import BoardError, BoardSession, HostSession
from sedge.runtime.protocol.framing import ESCAPE, START
from sedge.runtime.transport import SerialTransport, TransportClosed

UP, DOWN = "host->board", "board->host"


class FrameSplitter:
    """Cuts one direction's raw bytes into whole wire frames (FF FD ... CRC), unescaping only
    to find each frame's end; bytes outside frames pass as they are."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[bool, bytes]]:
        """(is_frame, bytes) pieces ready to forward, in order."""
        self.buffer += data
        pieces = []
        while self.buffer:
            start = self.buffer.find(bytes([ESCAPE, START]))
            if start != 0:
                stray = self.buffer[:start] if start > 0 else self.buffer[:]
                pieces.append((False, bytes(stray)))
                del self.buffer[:len(stray)]
                continue
            end = self._frame_end()
            if end is None:
                break
            pieces.append((True, bytes(self.buffer[:end])))
            del self.buffer[:end]
        return pieces

    def _frame_end(self) -> int | None:
        logical, i, buf = bytearray(), 2, self.buffer
        while i < len(buf):
            if buf[i] == ESCAPE:
                if i + 1 >= len(buf):
                    return None
                if buf[i + 1] == START:
                    return i  # a new frame starts: this one was cut short upstream
                logical.append(ESCAPE) if buf[i + 1] == ESCAPE else None
                i += 2
            else:
                logical.append(buf[i])
                i += 1
            if len(logical) >= 4 and len(logical) == 4 + struct.unpack_from("<I", logical)[0] + 2:
                return i
        return None


class FaultyCable:
    """Two ptys joined by a relay that injects faults per frame and can cut the line."""

    def __init__(self, corrupt: float, drop: float, seed: int):
        self.masters, self.slaves, paths = [], [], []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            self.masters.append(master)
            self.slaves.append(slave)
            paths.append(os.ttyname(slave))
        self.host_path, self.board_path = paths
        self.corrupt, self.drop, self.rng = corrupt, drop, random.Random(seed)
        self.injected = collections.Counter()
        self.frames = collections.Counter()
        self.dead = False
        self.splitters = {UP: FrameSplitter(), DOWN: FrameSplitter()}
        self.pending = {UP: bytearray(), DOWN: bytearray()}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def cut(self) -> None:
        self.dead = True
        self.injected["disconnect"] += 1

    def reconnect(self) -> None:
        self.dead = False

    def _mangle(self, frame: bytes) -> bytes:
        data = bytearray(frame)
        faulted = False
        hit = []
        if self.rng.random() < self.corrupt:
            hit.append(self.rng.randrange(len(data)))
            data[hit[-1]] ^= 1 << self.rng.randrange(8)
            self.injected["corrupt"] += 1
            faulted = True
        if self.rng.random() < self.drop:
            hit.append(self.rng.randrange(len(data)))
            del data[hit[-1]]
            self.injected["drop"] += 1
            faulted = True
        # a frame whose FF FD is hit is no frame to the receiver: only stray bytes, then a timeout
        self.injected["start_marker_hit"] += any(i < 2 for i in hit)
        self.injected["frames_faulted"] += faulted
        return bytes(data)

    def _relay(self) -> None:
        ends = {self.masters[0]: (UP, self.masters[1]), self.masters[1]: (DOWN, self.masters[0])}
        while not self.stop.is_set():
            readable, _, _ = select.select(list(ends), [], [], 0.002)
            for fd in readable:
                try:
                    data = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    continue
                direction, _ = ends[fd]
                if self.dead:
                    self.splitters[direction] = FrameSplitter()
                    self.injected["bytes_lost_in_disconnect"] += len(data)
                    continue
                for is_frame, piece in self.splitters[direction].feed(data):
                    if is_frame:
                        self.frames[direction] += 1
                        piece = self._mangle(piece)
                    self.pending[direction] += piece
            for fd, (direction, other) in ends.items():
                out = self.pending[direction]
                if out:
                    try:
                        written = os.write(other, out)
                    except BlockingIOError:
                        written = 0
                    del out[:written]

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for fd in self.masters + self.slaves:
            os.close(fd)


class SoakAgent(Agent):
    """The real agent, plus an `echo` request whose right answer the host can compute."""

    def handle(self, fields, blob, keepalive):
        if fields.get("op") == "echo":
            return {"sha256": hashlib.sha256(blob).hexdigest(), "n": fields.get("n")}, blob[::-1]
        return super().handle(fields, blob, keepalive)


class CountingBoardSession(BoardSession):
    """Keeps the board's fault counts across sessions (BoardSession resets them per session)."""

    totals = collections.Counter()

    def _start(self, init):
        if self._start_reply is None or self._start_reply.fields.get("host_nonce") != init.fields.get("nonce"):
            CountingBoardSession.totals.update(self.channel.faults.as_dict()
                                               | {"stray_bytes": self.channel.decoder.errors.stray_bytes})
        super()._start(init)


def _host_elf() -> bytes:
    return next(Path(sysconfig.get_config_var("DESTSHARED")).glob("_json*.so")).read_bytes()


def _package(directory: Path, index: int, rng: np.random.Generator) -> bytes:
    """A new, valid package for this host (a real ELF library, random weights) as bytes."""
    library = directory / "mod.so"
    library.write_bytes(_host_elf())
    weights = rng.standard_normal((32, 32)).astype(np.float32)
    metadata = Metadata(sedge_version="soak", tvm_version="0", target={"kind": "llvm"},
                        inputs=[TensorSpec("x", [1, 32])], outputs=[TensorSpec("output_0", [1, 32])], passes=[],
                        layers=[LayerRecord(f"dense_{index}", "dense", [[1, 32]], [1, 32])],
                        params=[TensorSpec("w", [32, 32])])
    path = write_package(directory / f"soak-{index}.tar", library, [weights], metadata)
    return path.read_bytes()


def soak(frames: int = 10_000, corrupt: float = 0.01, drop: float = 0.001, seed: int = 0,
         chunk_bytes: int = 512, timeout: float = 0.25, retries: int = 8, log=print) -> dict:
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    work = tempfile.TemporaryDirectory(prefix="sedge-soak-")
    workdir = Path(work.name)
    cable = FaultyCable(corrupt, drop, seed)
    agent = SoakAgent(workdir / "agent")
    stop = threading.Event()
    CountingBoardSession.totals = collections.Counter()
    board_errors = []

    def board():
        with SerialTransport(cable.board_path) as transport:
            agent.session = CountingBoardSession(transport, agent.handle, {"machine": "soak"}, poll=0.05)
            while not stop.is_set():
                try:
                    agent.session.serve_one()
                except TransportClosed as err:
                    board_errors.append(str(err))
                    return

    board_thread = threading.Thread(target=board, daemon=True)
    board_thread.start()
    stats = collections.Counter()
    host_faults = collections.Counter()
    started = time.monotonic()
    transport = SerialTransport(cable.host_path)
    transport.open()
    session = HostSession(transport, timeout=timeout, retries=retries)
    session.start()
    disconnect_at = frames // 2
    index = 0
    try:
        while sum(cable.frames.values()) < frames:
            index += 1
            if rng.random() < 0.5:
                data = _package(workdir, index, np_rng)
                sha = hashlib.sha256(data).hexdigest()

                def progress(offset, size):
                    if not cable.injected["disconnect"] and sum(cable.frames.values()) >= disconnect_at \
                            and offset >= size // 2:
                        log(f"cutting the line at frame {sum(cable.frames.values())}, upload at {offset}/{size}")
                        cable.cut()

                while True:
                    try:
                        upload = _upload(session, data, sha, chunk_bytes, progress)
                        break
                    except BoardError as err:
                        if not cable.dead:
                            raise
                        log(f"host gave up on the session: {err}"[:160])
                        stats["sessions_lost"] += 1
                        cable.reconnect()
                        host_faults.update(session.faults.as_dict()
                                           | {"stray_bytes": session.channel.decoder.errors.stray_bytes})
                        session = HostSession(transport, timeout=timeout, retries=retries)
                        session.start()
                        stats["reconnects"] += 1
                stats["uploads"] += 1
                if upload["resumed_from"] > 0:
                    stats["resumed_uploads"] += 1
                    log(f"upload resumed from byte {upload['resumed_from']} of {upload['bytes']}")
                stored = agent.store.packages / f"{sha}.tar"
                if not stored.is_file() or stored.read_bytes() != data:
                    stats["wrong_results"] += 1
            else:
                blob = rng.randbytes(rng.randrange(0, 200))
                fields, reply = session.request("echo", {"n": index}, blob)
                stats["echoes"] += 1
                if fields.get("sha256") != hashlib.sha256(blob).hexdigest() or reply != blob[::-1] \
                        or fields.get("n") != index:
                    stats["wrong_results"] += 1
    finally:
        elapsed = time.monotonic() - started
        host_faults.update(session.faults.as_dict() | {"stray_bytes": session.channel.decoder.errors.stray_bytes})
        session.close()
        time.sleep(0.3)
        stop.set()
        board_thread.join(timeout=5)
        transport.close()
        cable.close()
        if agent.session:
            CountingBoardSession.totals.update(agent.session.channel.faults.as_dict()
                                               | {"stray_bytes": agent.session.channel.decoder.errors.stray_bytes})
        work.cleanup()
    board_faults = CountingBoardSession.totals
    injected = {k: v for k, v in cable.injected.items()}
    return {
        "frames_relayed": sum(cable.frames.values()), "frames_by_direction": dict(cable.frames),
        "faults_injected": {"corrupt": injected.get("corrupt", 0), "drop": injected.get("drop", 0),
                            "frames_faulted": injected.get("frames_faulted", 0),
                            "start_marker_hit": injected.get("start_marker_hit", 0),
                            "disconnect": injected.get("disconnect", 0),
                            "bytes_lost_in_disconnect": injected.get("bytes_lost_in_disconnect", 0)},
        "faults_detected": {"host": host_faults["detected"], "board": board_faults["detected"],
                            "total": host_faults["detected"] + board_faults["detected"],
                            "host_by_kind": {k: host_faults[k] for k in ("crc", "escape", "abandoned", "oversize",
                                                                         "bad_messages")},
                            "board_by_kind": {k: board_faults[k] for k in ("crc", "escape", "abandoned", "oversize",
                                                                           "bad_messages")}},
        "retries": {"host_resends": host_faults["retries"], "board_replayed_replies": board_faults["retries"]},
        "stray_bytes": {"host": host_faults["stray_bytes"], "board": board_faults["stray_bytes"]},
        "host_timeouts": host_faults["timeouts"], "stale_messages": host_faults["stale"] + board_faults["stale"],
        "uploads": stats["uploads"], "resumed_uploads": stats["resumed_uploads"], "echoes": stats["echoes"],
        "sessions_lost": stats["sessions_lost"], "reconnects": stats["reconnects"],
        "wrong_results": stats["wrong_results"], "board_errors": board_errors,
        "settings": {"frames": frames, "corrupt_per_frame": corrupt, "drop_per_frame": drop, "seed": seed,
                     "chunk_bytes": chunk_bytes, "timeout_s": timeout, "retries": retries},
        "seconds": round(elapsed, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serial_soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=10_000, help="frames to relay, both directions (default 10000)")
    parser.add_argument("--corrupt", type=float, default=0.01, help="per frame: one bit flipped (default 0.01)")
    parser.add_argument("--drop", type=float, default=0.001, help="per frame: one byte lost (default 0.001)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        result = soak(args.frames, args.corrupt, args.drop, args.seed)
    except SedgeError as err:
        print(f"serial soak: error: {err}", file=sys.stderr)
        return 4
    print(json.dumps(result, indent=1))
    if args.json:
        from sedge.files import atomic_write_bytes

        atomic_write_bytes(args.json, json.dumps(result, indent=1).encode())
    return 1 if result["wrong_results"] or not result["resumed_uploads"] else 0


if __name__ == "__main__":
    sys.exit(main())
