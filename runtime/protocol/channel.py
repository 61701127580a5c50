"""Messages over a transport: framing both ways, and a count of everything that went wrong."""
from __future__ import annotations

import time
from dataclasses import dataclass

from sedge.runtime.protocol.framing import FrameDecoder, FrameErrors, encode_frame
from sedge.runtime.protocol.messages import BadMessage, Message
from sedge.runtime.transport import Transport, TransportTimeout

READ_CHUNK = 65536


@dataclass
class FaultCounts:
    """Faults seen on one side of the link; `detected` is what the framing/messages caught."""

    crc: int = 0
    escape: int = 0
    abandoned: int = 0
    oversize: int = 0
    bad_messages: int = 0
    stale: int = 0  # intact messages for another session or an already-answered request
    timeouts: int = 0
    retries: int = 0

    @property
    def detected(self) -> int:
        return self.crc + self.escape + self.abandoned + self.oversize + self.bad_messages

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {"detected": self.detected}


class Channel:
    def __init__(self, transport: Transport, write_timeout: float = 10.0):
        self.transport = transport
        self.write_timeout = write_timeout
        self.decoder = FrameDecoder()
        self.faults = FaultCounts()
        self._pending: list[Message] = []

    def reset_faults(self) -> None:
        self.decoder.errors = FrameErrors()
        self.faults = FaultCounts()

    def send(self, message: Message) -> None:
        self.transport.write(encode_frame(message.encode()), self.write_timeout)

    def _sync_faults(self) -> int:
        """Copy the decoder's counters; return how many frames newly ended broken.

        An abandoned frame is counted but not returned: it is noticed when the next frame
        starts, which is usually the very reply being waited for.
        """
        errors, before = self.decoder.errors, self.faults.detected - self.faults.abandoned
        self.faults.crc, self.faults.escape = errors.crc, errors.escape
        self.faults.abandoned, self.faults.oversize = errors.abandoned, errors.oversize
        return self.faults.detected - self.faults.abandoned - before

    def receive(self, timeout: float) -> Message | None:
        """The next intact message; None as soon as a frame ends broken (so the caller can
        retry at once); TransportTimeout if the line stays silent for `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportTimeout(f"no message within {timeout:.2f} s")
            data = self.transport.read(READ_CHUNK, remaining)
            deadline = time.monotonic() + timeout  # bytes are flowing: a long reply is not a dead line
            broken = 0
            for payload in self.decoder.feed(data):
                try:
                    self._pending.append(Message.decode(payload))
                except BadMessage:
                    self.faults.bad_messages += 1
                    broken += 1
            broken += self._sync_faults()
            if broken and not self._pending:
                return None
        return self._pending.pop(0)
