"""The messages sedge's host and board agent exchange, one per frame.

Layout (little-endian): CRC-32 of the rest, type (u8), session id (u16), request id (u32),
JSON length (u32), the JSON fields, then an optional binary blob (a package chunk, tensors).
The CRC-32 sits on top of the frame's CRC-16 so that a corrupted reply that slips past the
16-bit check still cannot turn into a wrong result.
"""
from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass, field
from enum import IntEnum

PROTOCOL_VERSION = 1
_HEADER = struct.Struct("<IBHII")


class MessageType(IntEnum):
    START_INIT = 1  # host -> board: protocol version and the host's nonce
    START_REPLY = 2  # board -> host: version, both nonces, what the board is
    TERMINATE = 3  # host -> board: the session is over
    LOG = 4  # board -> host: a log line, never acknowledged
    REQUEST = 5  # host -> board: an operation ("op") with its fields
    REPLY = 6  # board -> host: the answer to one request id (or {"error": ...})
    KEEPALIVE = 7  # board -> host: still working on a request id


class BadMessage(ValueError):
    """A frame that arrived intact but is no valid message (or failed the CRC-32)."""


@dataclass
class Message:
    type: MessageType
    session_id: int = 0
    request_id: int = 0
    fields: dict = field(default_factory=dict)
    blob: bytes = b""

    def encode(self) -> bytes:
        text = json.dumps(self.fields, separators=(",", ":")).encode()
        rest = _HEADER.pack(0, self.type, self.session_id, self.request_id, len(text))[4:] + text + self.blob
        return struct.pack("<I", zlib.crc32(rest)) + rest

    @classmethod
    def decode(cls, data: bytes) -> "Message":
        if len(data) < _HEADER.size:
            raise BadMessage(f"message of {len(data)} bytes is shorter than its header")
        crc, kind, session_id, request_id, text_len = _HEADER.unpack_from(data)
        if zlib.crc32(data[4:]) != crc:
            raise BadMessage("message CRC-32 mismatch")
        if _HEADER.size + text_len > len(data):
            raise BadMessage(f"message fields of {text_len} bytes run past its end ({len(data)} bytes)")
        try:
            kind = MessageType(kind)
            fields = json.loads(data[_HEADER.size:_HEADER.size + text_len])
        except (ValueError, UnicodeDecodeError, RecursionError) as err:
            raise BadMessage(f"undecodable message: {str(err)[:80]}") from None
        if not isinstance(fields, dict):
            raise BadMessage(f"message fields are a JSON {type(fields).__name__}, not an object")
        return cls(kind, session_id, request_id, fields, bytes(data[_HEADER.size + text_len:]))
