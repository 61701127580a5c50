"""The transport contract: a byte pipe to a board, with deadlines and typed failures.

Framing and sessions live in `sedge.runtime.protocol`; a transport only moves bytes, so a
new kind of link (a USB bulk endpoint, a socket) is one small class. `read` returns as
soon as some bytes are there (at most `n`) and raises `TransportTimeout` if none arrived
in `timeout` seconds; `write` sends every byte or raises, because a half-sent frame is
worse than none.
"""
from __future__ import annotations

from sedge.errors import SedgeError


class TransportError(SedgeError):
    """The link to the board failed."""


class TransportClosed(TransportError):
    """The link is closed (never opened, closed by us, or the device went away)."""


class TransportTimeout(TransportError):
    """Nothing could be read or written before the deadline."""


class Transport:
    """A byte pipe to a board; use as a context manager so it is always closed."""

    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def read(self, n: int, timeout: float) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes, timeout: float) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Transport":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
