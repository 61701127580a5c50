"""Frames on a byte stream, following microTVM's serial framing (docs/devices.md).

A frame is `FF FD`, a little-endian uint32 payload length, the payload, and a
little-endian CRC-16/CCITT (poly 0x1021, init 0xFFFF) over the on-wire bytes from `FF FD`
through the payload. Inside length, payload and CRC every `FF` is sent as `FF FF`; `FF FE`
is a no-op the sender may use as filler; `FF FD` always starts a new frame, so a receiver
that lost bytes resynchronises on the next frame instead of waiting forever.
"""
from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

ESCAPE = 0xFF
START = 0xFD
NOP = 0xFE
START_BYTES = bytes([ESCAPE, START])
NOP_BYTES = bytes([ESCAPE, NOP])
# a corrupted length must not make the receiver wait for gigabytes
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    return binascii.crc_hqx(data, crc)


def _escape(data: bytes) -> bytes:
    return data.replace(b"\xff", b"\xff\xff")


def encode_frame(payload: bytes) -> bytes:
    body = START_BYTES + _escape(struct.pack("<I", len(payload)) + payload)
    return body + _escape(struct.pack("<H", crc16(body)))


@dataclass
class FrameErrors:
    """What the decoder threw away, for the fault report."""

    crc: int = 0  # a whole frame arrived but its CRC did not match
    escape: int = 0  # FF followed by a byte that is no escape
    abandoned: int = 0  # a new FF FD arrived before the frame was complete
    oversize: int = 0  # the length field was beyond MAX_PAYLOAD_BYTES
    stray_bytes: int = 0  # bytes outside any frame

    @property
    def total(self) -> int:
        return self.crc + self.escape + self.abandoned + self.oversize


class FrameDecoder:
    """Turns a byte stream into frame payloads; `feed` returns the frames completed so far."""

    def __init__(self, max_payload: int = MAX_PAYLOAD_BYTES):
        self.max_payload = max_payload
        self.errors = FrameErrors()
        self._after_escape = False
        self._in_frame = False
        self._logical = bytearray()  # unescaped length + payload + crc of the current frame

    def _start(self) -> None:
        if self._in_frame:
            self.errors.abandoned += 1
        self._in_frame = True
        self._logical = bytearray()

    def _drop(self) -> None:
        self._in_frame = False
        self._logical = bytearray()

    def _byte(self, value: int) -> bytes | None:
        """Add one unescaped frame byte; return the payload once the frame is complete."""
        buf = self._logical
        buf.append(value)
        if len(buf) < 4:
            return None
        length = struct.unpack_from("<I", buf)[0]
        if length > self.max_payload:
            self.errors.oversize += 1
            self._drop()
            return None
        if len(buf) < 4 + length + 2:
            return None
        payload = bytes(buf[4:4 + length])
        received = struct.unpack_from("<H", buf, 4 + length)[0]
        self._drop()
        if crc16(START_BYTES + _escape(struct.pack("<I", length) + payload)) != received:
            self.errors.crc += 1
            return None
        return payload

    def feed(self, data: bytes) -> list[bytes]:
        frames = []
        for value in data:
            if self._after_escape:
                self._after_escape = False
                if value == START:
                    self._start()
                    continue
                if value == NOP:
                    continue
                if value != ESCAPE:
                    if self._in_frame:
                        self.errors.escape += 1
                        self._drop()
                    else:
                        self.errors.stray_bytes += 2
                    continue
            elif value == ESCAPE:
                self._after_escape = True
                continue
            if not self._in_frame:
                self.errors.stray_bytes += 1
                continue
            payload = self._byte(value)
            if payload is not None:
                frames.append(payload)
        return frames
