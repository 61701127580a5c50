"""A transport over pyserial: a device path or any `serial_for_url` URL, or an open port.

URLs cover real ports (`/dev/ttyUSB0`, `COM3`), `socket://host:port`, `rfc2217://host:port`
and `loop://`, so tests and remote boards need no special code. A port object passed in
was opened by the caller, who keeps ownership: `close` leaves it open.
"""
from __future__ import annotations

import time

import serial

from sedge.runtime.transport.base import Transport, TransportClosed, TransportError, TransportTimeout

DEFAULT_BAUDRATE = 115200


def _hint(url: str, err: Exception) -> str:
    text = str(err)
    if "Permission denied" in text:
        return f"{text}; add your user to the 'dialout' group (sudo usermod -aG dialout $USER) and log in again"
    if "No such file" in text or "could not open port" in text:
        return f"{text}; check the cable and the device name (ls /dev/ttyUSB* /dev/ttyACM*)"
    return text


class SerialTransport(Transport):
    """pyserial behind the transport contract."""

    def __init__(self, port, baudrate: int = DEFAULT_BAUDRATE):
        if isinstance(port, str):
            self.url, self._port, self._owned = port, None, True
        else:
            self.url, self._port, self._owned = getattr(port, "port", None) or repr(port), port, False
        self.baudrate = baudrate

    def open(self) -> None:
        if self._port is not None:
            return
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0, write_timeout=0)
        except (serial.SerialException, ValueError, OSError) as err:
            raise TransportError(f"cannot open serial port '{self.url}': {_hint(self.url, err)}") from None

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None and self._owned:
            port.close()

    def _live_port(self):
        if self._port is None or not self._port.is_open:
            raise TransportClosed(f"serial port '{self.url}' is closed")
        return self._port

    def read(self, n: int, timeout: float) -> bytes:
        port = self._live_port()
        deadline = time.monotonic() + timeout
        while True:
            port.timeout = max(0.0, min(deadline - time.monotonic(), 0.1))
            try:
                # one byte blocking (up to the timeout), then whatever else is already there
                data = port.read(1)
                if data:
                    waiting = port.in_waiting
                    if waiting and n > 1:
                        data += port.read(min(n - 1, waiting))
                    return data
            except (serial.SerialException, OSError) as err:
                raise TransportClosed(f"serial port '{self.url}' failed while reading: {err}") from None
            if time.monotonic() >= deadline:
                raise TransportTimeout(f"no bytes from '{self.url}' within {timeout:.2f} s")

    def write(self, data: bytes, timeout: float) -> None:
        port = self._live_port()
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportTimeout(f"could not write to '{self.url}' within {timeout:.2f} s "
                                       f"({len(data) - len(view)} of {len(data)} bytes sent)")
            port.write_timeout = remaining
            try:
                sent = port.write(view)
            except serial.SerialTimeoutException:
                continue
            except (serial.SerialException, OSError) as err:
                raise TransportClosed(f"serial port '{self.url}' failed while writing: {err}") from None
            view = view[sent or 0:]
        try:
            port.flush()
        except (serial.SerialException, OSError) as err:
            raise TransportClosed(f"serial port '{self.url}' failed while flushing: {err}") from None
