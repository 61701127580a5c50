"""Sessions between a host and a board thread over a real pty pair with a fault injector."""
import threading
import time

import pytest
from faultline import DOWN, UP, FaultyLine

from sedge.errors import SedgeError
from sedge.runtime.protocol.session import BoardError, BoardSession, HostSession
from sedge.runtime.transport import SerialTransport


def echo(fields, blob, keepalive):
    if fields["op"] == "fail":
        raise SedgeError("asked to fail")
    if fields["op"] == "crash":
        raise ZeroDivisionError("a bug in a handler")
    if fields["op"] == "slow":
        end = time.monotonic() + fields["seconds"]
        while time.monotonic() < end:
            keepalive()
            time.sleep(0.02)
    return {"op": fields["op"], "n": fields.get("n")}, blob[::-1]


@pytest.fixture
def link():
    line = FaultyLine(seed=1)
    board_transport = SerialTransport(line.board_path)
    board_transport.open()
    board = BoardSession(board_transport, echo, {"machine": "test"}, poll=0.1)
    stop = threading.Event()
    thread = threading.Thread(target=lambda: [board.serve_one() for _ in iter(stop.is_set, True)], daemon=True)
    thread.start()
    host_transport = SerialTransport(line.host_path)
    host_transport.open()
    host = HostSession(host_transport, timeout=0.3, retries=4)
    yield line, host, board
    host.close()
    stop.set()
    thread.join()
    host_transport.close()
    board_transport.close()
    line.close()


def test_handshake_request_and_error_reply(link):
    line, host, board = link
    assert host.start() == {"machine": "test"}
    assert host.session_id == board.session_id
    assert host.request("echo", {"n": 1}, b"abc") == ({"op": "echo", "n": 1}, b"cba")
    with pytest.raises(BoardError, match="asked to fail"):
        host.request("fail")
    with pytest.raises(BoardError, match="internal error on the board: ZeroDivisionError: a bug in a handler"):
        host.request("crash")
    assert host.request("echo", {"n": 2}) == ({"op": "echo", "n": 2}, b"")  # the board still serves
    assert host.faults.detected == 0 and host.faults.retries == 0


def test_corrupted_and_dropped_bytes_are_detected_and_retried(link):
    line, host, board = link
    host.start()
    base_up, base_down = line.sent[UP], line.sent[DOWN]
    line.corrupt_at[UP].add(base_up + 20)
    line.drop_at[DOWN].add(base_down + 15)
    blob = bytes(range(256)) * 4
    for n in range(3):
        assert host.request("echo", {"n": n}, blob) == ({"op": "echo", "n": n}, blob[::-1])
    assert line.injected == {"corrupt": 1, "drop": 1}
    assert board.channel.faults.detected >= 1  # the corrupted request failed its CRC on the board
    assert host.faults.retries >= 2 and host.faults.timeouts + host.faults.detected >= 2


def test_stalled_line_gives_late_replies_that_are_never_mistaken(link):
    line, host, board = link
    host.start()
    line.stall = (DOWN, line.sent[DOWN] + 3, 0.5)  # longer than the host's 0.3 s timeout
    assert host.request("echo", {"n": 7}) == ({"op": "echo", "n": 7}, b"")
    assert host.request("echo", {"n": 8}) == ({"op": "echo", "n": 8}, b"")
    assert line.injected["stall"] == 1 and host.faults.timeouts >= 1


def test_keepalives_carry_a_request_longer_than_the_timeout(link):
    line, host, board = link
    host.start()
    assert host.request("slow", {"seconds": 1.0})[0]["op"] == "slow"
    assert host.faults.timeouts == 0


def test_dead_line_is_one_clear_error_not_a_hang(link):
    line, host, board = link
    line.dead = True
    start = time.monotonic()
    with pytest.raises(BoardError, match="no answer .* after 5 tries"):
        host.start()
    assert time.monotonic() - start < 5 * 0.3 + 1.0
