"""Sessions: a version handshake, then requests answered by request id, with bounded retries.

As in microTVM, each side contributes an 8-bit nonce and the session id is both together,
so a reply from an earlier session (a board that kept talking after the host restarted) is
never taken for a current one. The host's nonce travels as 32 bits, so a repeated
start-init (its reply was lost) is recognised and answered with the same session.

The host is the only side that asks; every request is resent with the same id when its
reply does not come in time or a broken frame arrives, and the board answers a repeated
request (same id, same CRC) from its cache, so a retry never runs anything twice.
While it works on a long request the board sends keep-alives, so the host's timeout is a
limit on silence, not on model run time.
"""
from __future__ import annotations

import logging
import os
import time
import zlib
from typing import Callable

from sedge.errors import SedgeError
from sedge.runtime.protocol.channel import Channel
from sedge.runtime.protocol.messages import PROTOCOL_VERSION, Message, MessageType
from sedge.runtime.transport import Transport, TransportTimeout

log = logging.getLogger("sedge.agent")


class BoardError(SedgeError):
    """The board failed a request, or could not be reached."""


class HostSession:
    def __init__(self, transport: Transport, timeout: float = 3.0, retries: int = 3,
                 on_log: Callable[[str, str], None] | None = None, on_keepalive: Callable[[], None] | None = None):
        self.channel = Channel(transport)
        self.timeout = timeout
        self.retries = retries
        self.on_log = on_log
        self.on_keepalive = on_keepalive  # the board is still working: a progress bar can tick
        self.session_id = None
        self.board: dict = {}
        self._next_id = 1
        self._where = getattr(transport, "url", "the board")

    @property
    def faults(self):
        return self.channel.faults

    def _exchange(self, message: Message, accept: Callable[[Message], bool], what: str) -> Message:
        """Send `message` and wait for the first reply `accept` takes, resending on silence."""
        for attempt in range(self.retries + 1):
            if attempt:
                self.faults.retries += 1
            self.channel.send(message)
            try:
                while True:
                    reply = self.channel.receive(self.timeout)
                    if reply is None:
                        break  # a broken frame: most likely our reply, so ask again now
                    if reply.type == MessageType.LOG:
                        if self.on_log and reply.session_id == self.session_id:
                            self.on_log(reply.fields.get("level", "info"), reply.fields.get("text", ""))
                    elif accept(reply):
                        return reply
                    elif reply.type == MessageType.KEEPALIVE and reply.session_id == self.session_id:
                        if self.on_keepalive:
                            self.on_keepalive()
                    else:
                        self.faults.stale += 1
            except TransportTimeout:
                self.faults.timeouts += 1
        raise BoardError(f"no answer from {self._where} to {what} after {self.retries + 1} tries of "
                         f"{self.timeout:g} s of silence; is `sedge agent --port ...` running on the board "
                         f"at the same baud rate, and is the cable connected?")

    def start(self) -> dict:
        nonce = int.from_bytes(os.urandom(4), "little")
        init = Message(MessageType.START_INIT, fields={"protocol": PROTOCOL_VERSION, "nonce": nonce})
        reply = self._exchange(init, lambda m: m.type == MessageType.START_REPLY
                               and m.fields.get("host_nonce") == nonce, "the session start")
        if reply.fields.get("error"):
            raise BoardError(f"the board refused the session: {reply.fields['error']}")
        self.session_id = reply.session_id
        self.board = reply.fields.get("board", {})
        return self.board

    def request(self, op: str, fields: dict | None = None, blob: bytes = b"") -> tuple[dict, bytes]:
        if self.session_id is None:
            raise BoardError("no session: call start() first")
        request_id, self._next_id = self._next_id, self._next_id + 1
        message = Message(MessageType.REQUEST, self.session_id, request_id, {"op": op, **(fields or {})}, blob)
        reply = self._exchange(message, lambda m: m.type == MessageType.REPLY and m.session_id == self.session_id
                               and m.request_id == request_id, f"request '{op}'")
        if "error" in reply.fields:
            raise BoardError(f"the board failed '{op}': {reply.fields['error']}")
        return reply.fields, reply.blob

    def close(self) -> None:
        if self.session_id is not None:
            try:
                self.channel.send(Message(MessageType.TERMINATE, self.session_id))
            except SedgeError:
                pass  # the board is gone already; nothing left to tell it
            self.session_id = None


Handler = Callable[[dict, bytes, Callable[[], None]], tuple[dict, bytes]]


class BoardSession:
    """The board's side: answers one host at a time; `handle(fields, blob, keepalive)` does the work."""

    def __init__(self, transport: Transport, handle: Handler, board_info: dict, poll: float = 0.5):
        self.channel = Channel(transport)
        self.handle = handle
        self.board_info = board_info
        self.poll = poll
        self.session_id = None
        self._last: tuple[int, int, Message] | None = None  # request id, request CRC, reply
        self._start_reply: Message | None = None
        self._keepalive_at = 0.0

    def log(self, text: str, level: str = "info") -> None:
        if self.session_id is not None:
            self.channel.send(Message(MessageType.LOG, self.session_id, fields={"level": level, "text": text}))

    def _start(self, init: Message) -> None:
        if self._start_reply and self._start_reply.fields["host_nonce"] == init.fields.get("nonce"):
            self.channel.send(self._start_reply)  # the host missed our reply: same session again
            return
        if init.fields.get("protocol") != PROTOCOL_VERSION:
            fields = {"error": f"the board's agent speaks protocol {PROTOCOL_VERSION}, the host "
                               f"{init.fields.get('protocol')}: install the same sedge version on both"}
        else:
            fields = {"protocol": PROTOCOL_VERSION, "board": self.board_info}
        nonce = os.urandom(1)[0]
        fields |= {"host_nonce": init.fields.get("nonce"), "nonce": nonce}
        self.session_id = ((int(init.fields.get("nonce", 0)) & 0xFF) << 8) | nonce
        self._last = None
        self.channel.reset_faults()  # counts are per session, so a host sees what its own run met
        self._start_reply = Message(MessageType.START_REPLY, self.session_id, fields=fields)
        self.channel.send(self._start_reply)

    def _keepalive(self, request_id: int) -> Callable[[], None]:
        def beat():
            now = time.monotonic()
            if now >= self._keepalive_at:
                self._keepalive_at = now + self.poll
                self.channel.send(Message(MessageType.KEEPALIVE, self.session_id, request_id))
        return beat

    def _answer(self, request: Message) -> None:
        fingerprint = zlib.crc32(request.encode())
        if self._last and self._last[:2] == (request.request_id, fingerprint):
            self.channel.faults.retries += 1  # the host did not get our reply: resend, do not redo
            self.channel.send(self._last[2])
            return
        try:
            fields, blob = self.handle(request.fields, request.blob, self._keepalive(request.request_id))
        except SedgeError as err:
            fields, blob = {"error": str(err)}, b""
        except Exception as err:  # noqa: BLE001 - one bad request must not take the board's server down
            log.exception("request %s failed", request.fields.get("op"))
            fields, blob = {"error": f"internal error on the board: {type(err).__name__}: {err}"}, b""
        reply = Message(MessageType.REPLY, self.session_id, request.request_id, fields, blob)
        self._last = (request.request_id, fingerprint, reply)
        self.channel.send(reply)

    def serve_one(self) -> bool:
        """Handle what arrives within one poll interval; False once the host ended the session."""
        try:
            message = self.channel.receive(self.poll)
        except TransportTimeout:
            return True
        if message is None:
            return True
        if message.type == MessageType.START_INIT:
            self._start(message)
        elif message.session_id != self.session_id or self.session_id is None:
            self.channel.faults.stale += 1
        elif message.type == MessageType.REQUEST:
            self._answer(message)
        elif message.type == MessageType.TERMINATE:
            self.session_id, self._start_reply = None, None
            return False
        return True
