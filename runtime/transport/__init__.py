"""Transports: byte pipes to boards. `TRANSPORTS` is the one registry of kinds.

To add a kind, write `runtime/transport/<name>.py` with a `Transport` subclass and add it
here; `open_transport` picks the kind by name.
"""
from __future__ import annotations

from sedge.errors import SedgeError
from sedge.runtime.transport.base import Transport, TransportClosed, TransportError, TransportTimeout
from sedge.runtime.transport.serial_port import DEFAULT_BAUDRATE, SerialTransport

TRANSPORTS = {
    "serial": SerialTransport,
}


def make_transport(port, kind: str = "serial", **options) -> Transport:
    """A transport of `kind` for `port` (a URL/path or an open port object), not yet opened."""
    if kind not in TRANSPORTS:
        raise SedgeError(f"unknown transport '{kind}'; known: {', '.join(sorted(TRANSPORTS))}")
    return TRANSPORTS[kind](port, **options)


__all__ = ["DEFAULT_BAUDRATE", "TRANSPORTS", "SerialTransport", "Transport", "TransportClosed", "TransportError",
           "TransportTimeout", "make_transport"]
