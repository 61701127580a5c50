"""The pyserial transport over loop:// and an open port object: reads, writes, deadlines, closing."""
import time

import pytest
import serial

from sedge.errors import SedgeError
from sedge.runtime.transport import SerialTransport, TransportClosed, TransportError, TransportTimeout, make_transport


def test_loop_url_round_trip_and_read_timeout():
    with make_transport("loop://") as transport:
        data = bytes(range(256)) * 12  # loop:// buffers 4 KiB
        transport.write(data, timeout=1.0)
        received = b""
        while len(received) < len(data):
            received += transport.read(len(data), timeout=1.0)
        assert received == data
        start = time.monotonic()
        with pytest.raises(TransportTimeout):
            transport.read(1, timeout=0.2)
        assert 0.15 < time.monotonic() - start < 1.0


def test_open_port_object_is_used_and_left_open():
    port = serial.serial_for_url("loop://", timeout=0)
    with SerialTransport(port) as transport:
        transport.write(b"x", timeout=1.0)
        assert transport.read(10, timeout=1.0) == b"x"
    assert port.is_open
    port.close()


def test_closed_transport_and_bad_port_raise_typed_errors():
    transport = make_transport("loop://")
    with pytest.raises(TransportClosed):
        transport.read(1, timeout=0.1)
    with pytest.raises(TransportError, match="cannot open serial port '/dev/sedge-no-such-port'"):
        make_transport("/dev/sedge-no-such-port").open()
    with pytest.raises(SedgeError, match="unknown transport 'usb'; known: serial"):
        make_transport("loop://", kind="usb")
