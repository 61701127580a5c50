"""Framing: the published microTVM vectors, escaping, and every way a frame can break."""
import pytest

from sedge.runtime.protocol.framing import MAX_PAYLOAD_BYTES, NOP_BYTES, FrameDecoder, encode_frame

VECTORS = [
    (b"one", bytes.fromhex("FF FD 03 00 00 00 6F 6E 65 58 F4")),
    (b"", bytes.fromhex("FF FD 00 00 00 00 83 44")),
]


@pytest.mark.parametrize("payload, wire", VECTORS)
def test_published_vectors_encode_and_decode(payload, wire):
    assert encode_frame(payload) == wire
    decoder = FrameDecoder()
    assert decoder.feed(wire) == [payload]
    assert decoder.errors.total == 0


def test_ff_bytes_are_escaped_and_round_trip_byte_by_byte():
    payload = bytes(range(256)) + b"\xff\xfd\xff\xfe\xff"
    wire = encode_frame(payload)
    assert b"\xff" not in wire[2:].replace(b"\xff\xff", b"")  # every FF after the start is escaped
    decoder = FrameDecoder()
    frames = []
    for i in range(len(wire)):
        frames += decoder.feed(wire[i:i + 1])
    assert frames == [payload]


def test_nops_and_stray_bytes_between_frames_are_ignored():
    decoder = FrameDecoder()
    stream = b"noise" + encode_frame(b"a") + NOP_BYTES * 3 + encode_frame(b"b")
    assert decoder.feed(stream) == [b"a", b"b"]
    assert decoder.errors.stray_bytes == 5
    assert decoder.errors.total == 0


def test_corrupted_byte_fails_the_crc_and_the_next_frame_survives():
    wire = bytearray(encode_frame(b"hello world"))
    wire[8] ^= 0x01
    decoder = FrameDecoder()
    assert decoder.feed(bytes(wire) + encode_frame(b"next")) == [b"next"]
    assert decoder.errors.crc == 1


def test_dropped_byte_is_abandoned_at_the_next_start():
    wire = encode_frame(b"hello world")
    decoder = FrameDecoder()
    assert decoder.feed(wire[:7] + wire[8:] + encode_frame(b"next")) == [b"next"]
    assert decoder.errors.abandoned == 1


def test_invalid_escape_drops_the_frame():
    wire = encode_frame(b"abc")
    decoder = FrameDecoder()
    assert decoder.feed(wire[:7] + b"\xff\x01" + wire[7:]) == []
    assert decoder.errors.escape == 1


def test_oversized_length_does_not_wait_for_it():
    decoder = FrameDecoder(max_payload=16)
    assert decoder.feed(b"\xff\xfd" + (17).to_bytes(4, "little") + encode_frame(b"ok")) == [b"ok"]
    assert decoder.errors.oversize == 1
    assert MAX_PAYLOAD_BYTES >= 16 * 1024 * 1024
