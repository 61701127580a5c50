"""A serial line with a fault injector: two pseudo-terminals joined by a relay thread.

The host opens `host_path`, the board (agent) opens `board_path`, both with pyserial as if
they were real ports; the relay copies bytes between the two pty masters and, on the way,
corrupts, drops or holds them, or cuts the line, as the test asks. `injected` counts what
it did, so a test can check that every fault was noticed.
"""
from __future__ import annotations

import collections
import os
import random
import select
import threading
import time
import tty

UP, DOWN = "host->board", "board->host"


class FaultyLine:
    def __init__(self, seed: int = 0):
        self._masters, self._slaves, paths = [], [], []
        for _ in range(2):
            master, slave = os.openpty()
            tty.setraw(slave)
            os.set_blocking(master, False)
            self._masters.append(master)
            self._slaves.append(slave)  # kept open so the master never sees a hang-up
            paths.append(os.ttyname(slave))
        self.host_path, self.board_path = paths
        self.rng = random.Random(seed)
        self.injected = collections.Counter()
        self.sent = {UP: 0, DOWN: 0}
        self.corrupt_at = {UP: set(), DOWN: set()}  # byte offsets in each direction
        self.drop_at = {UP: set(), DOWN: set()}
        self.random_rate = 0.0  # per byte, each of corrupt / drop, both directions
        self.stall: tuple[str, int, float] | None = None  # direction, at offset, seconds
        self.cut_at: tuple[str, int] | None = None  # the line goes dead at this offset
        self.dead = False
        self._queues = {UP: collections.deque(), DOWN: collections.deque()}  # (due time, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()

    def reconnect(self) -> None:
        self.cut_at, self.dead = None, False

    def _mangle(self, direction: str, data: bytes) -> tuple[bytes, float]:
        out, hold = bytearray(), 0.0
        for value in data:
            offset = self.sent[direction]
            self.sent[direction] += 1
            if self.cut_at and self.cut_at == (direction, offset):
                self.dead = True
                self.injected["disconnect"] += 1
            if self.dead:
                continue
            if self.stall and self.stall[:2] == (direction, offset):
                hold = self.stall[2]
                self.injected["stall"] += 1
            if offset in self.drop_at[direction] or self.rng.random() < self.random_rate:
                self.injected["drop"] += 1
                continue
            if offset in self.corrupt_at[direction] or self.rng.random() < self.random_rate:
                value ^= 1 << self.rng.randrange(8)
                self.injected["corrupt"] += 1
            out.append(value)
        return bytes(out), hold

    def _relay(self) -> None:
        ends = {self._masters[0]: (UP, self._masters[1]), self._masters[1]: (DOWN, self._masters[0])}
        while not self._stop.is_set():
            readable, _, _ = select.select(list(ends), [], [], 0.005)
            now = time.monotonic()
            for fd in readable:
                try:
                    data = os.read(fd, 65536)
                except (BlockingIOError, OSError):
                    continue
                direction = ends[fd][0]
                data, hold = self._mangle(direction, data)
                queue = self._queues[direction]
                due = max(now + hold, queue[-1][0] if queue else 0.0)  # a stall delays what follows too
                queue.append((due, data))
            for fd, (direction, other) in ends.items():
                queue = self._queues[direction]
                while queue and queue[0][0] <= now:
                    due, data = queue.popleft()
                    try:
                        written = os.write(other, data)
                    except BlockingIOError:
                        written = 0
                    if written < len(data):
                        queue.appendleft((due, data[written:]))
                        break

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for fd in self._masters + self._slaves:
            os.close(fd)
