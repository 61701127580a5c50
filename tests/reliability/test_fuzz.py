"""Fuzzing (hypothesis): the frame parser and the session layer, the --input-shapes / target /
--pass-config parsers, the board-file loader, the package reader and the ONNX importer on
mutated models. For every input: no crash, no hang (each input runs under a SIGALRM time
bound), and every rejection a SedgeError.

The default suite runs a short, derandomized pass (a few seconds per target). The long run:

    SEDGE_FUZZ_LONG=1 .venv/bin/python -m pytest -n 0 -s -p no:randomly tests/reliability/test_fuzz.py

feeds >= 100k frames through the framing and >= 1k mutated ONNX models through the importer
and prints the counts (docs/reliability.md records a run). Each target collects every
distinct failure instead of stopping at the first, so one run lists them all.
"""
from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import random
import signal
import struct
import tarfile
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sedge.errors import SedgeError

LONG = os.environ.get("SEDGE_FUZZ_LONG") == "1"
STATS: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def examples(short: int, long: int) -> settings:
    return settings(max_examples=long if LONG else short, deadline=None, database=None, derandomize=not LONG,
                    suppress_health_check=list(HealthCheck), print_blob=False)


class Hang(BaseException):
    """An input ran past its time bound (BaseException: no `except Exception` swallows it)."""


@contextlib.contextmanager
def time_bound(seconds: float):
    def fire(*_):
        raise Hang(f"one input ran over {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Findings:
    """Distinct failures (type and first line) with one example input each."""

    def __init__(self, target: str):
        self.target = target
        self.found: dict[str, str] = {}

    def call(self, fn, *args, seconds: float = 2.0, describe=None):
        """fn(*args) under the time bound; a SedgeError is a refusal, anything else a finding."""
        STATS[self.target]["inputs"] += 1
        try:
            with time_bound(seconds):
                result = fn(*args)
        except SedgeError as err:
            STATS[self.target]["refused"] += 1
            texts = [a for arg in args for a in (arg if isinstance(arg, list) else [arg]) if isinstance(a, str)]
            if "\n" in str(err).strip() and not any("\n" in a or "\r" in a for a in texts):
                self.found.setdefault(f"a refusal of more than one line: {str(err)[:160]!r}", repr(args)[:300])
            return None
        except (Exception, Hang) as err:  # noqa: BLE001 - this is what the fuzzer looks for
            key = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:160] if str(err).strip() else ''}"
            STATS[self.target]["internal"] += 1
            self.found.setdefault(key, (describe() if describe else repr(args))[:300])
            return None
        STATS[self.target]["accepted"] += 1
        return result

    def check(self):
        """Fail on any finding, listing each distinct one with an input that caused it."""
        listing = "\n".join(f"  {key}\n    input: {example}" for key, example in self.found.items())
        assert not self.found, f"{self.target}: {len(self.found)} distinct failure(s):\n{listing}"


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if STATS:
        print("\nfuzz counts (" + ("long" if LONG else "short") + " run):")
        for target, counts in STATS.items():
            print(f"  {target:<16} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


# ---------------------------------------------------------------- framing and messages

def _payloads():
    return st.binary(min_size=0, max_size=200) | st.lists(st.sampled_from([0xFF, 0xFD, 0xFE, 0x00, 0x41]),
                                                          max_size=60).map(bytes)


_MUTATION = st.tuples(st.sampled_from(["flip", "drop", "insert", "dup", "cut"]), st.integers(0, 1 << 30),
                      st.binary(min_size=1, max_size=8))


def _mutate(stream: bytes, mutations) -> bytes:
    data = bytearray(stream)
    for kind, where, extra in mutations:
        if not data:
            break
        at = where % len(data)
        if kind == "flip":
            data[at] ^= 1 << (extra[0] % 8)
        elif kind == "drop":
            del data[at]
        elif kind == "insert":
            data[at:at] = extra
        elif kind == "dup":
            data[at:at] = data[at:at + extra[0] % 32]
        else:
            del data[at:]
    return bytes(data)


def test_framing_and_messages():
    """Streams of messages, mutated and cut into random reads: the decoder never raises,
    every intact stream decodes exactly, and no mutated frame becomes a message that was not sent."""
    from sedge.runtime.protocol.framing import FrameDecoder, encode_frame
    from sedge.runtime.protocol.messages import BadMessage, Message, MessageType

    findings = Findings("framing")
    @examples(150, 3500)
    @given(st.lists(st.tuples(st.sampled_from(list(MessageType)), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
                              _payloads()), min_size=30 if LONG else 1, max_size=60 if LONG else 10),
           st.lists(_MUTATION, max_size=6), st.lists(st.integers(1, 300), min_size=1, max_size=8),
           st.binary(max_size=40))
    def run(messages, mutations, reads, garbage):
        sent = [Message(kind, sid, rid, {"n": i}, blob) for i, (kind, sid, rid, blob) in enumerate(messages)]
        wire = b"".join(encode_frame(m.encode()) for m in sent)
        STATS["framing"]["frames"] += len(sent)
        stream = _mutate(garbage + wire, mutations) if mutations else wire

        def decode():
            decoder, payloads, pos, i = FrameDecoder(max_payload=1 << 16), [], 0, 0
            while pos < len(stream):
                step = reads[i % len(reads)]
                payloads += decoder.feed(stream[pos:pos + step])
                pos, i = pos + step, i + 1
            return payloads

        payloads = findings.call(decode, describe=lambda: f"stream {stream[:120].hex()} mutations {mutations}")
        if payloads is None:
            return
        received = []
        for payload in payloads:
            try:
                received.append(Message.decode(payload))
            except BadMessage:
                STATS["framing"]["bad_messages"] += 1
            except Exception as err:  # noqa: BLE001
                findings.found.setdefault(f"Message.decode: {type(err).__name__}: {err}", payload[:80].hex())
        encoded = {m.encode() for m in sent}
        if not mutations:
            assert [m.encode() for m in received] == [m.encode() for m in sent]
        wrong = [m for m in received if m.encode() not in encoded]
        STATS["framing"]["wrong_messages"] += len(wrong)
        assert not wrong, f"a mutated frame became a message that was not sent: {wrong[0]}"

    run()
    findings.check()


def test_message_decode_on_any_bytes():
    from sedge.runtime.protocol.messages import BadMessage, Message

    findings = Findings("messages")

    def decode(data):
        try:
            return Message.decode(data)
        except BadMessage:
            return None

    @examples(300, 20000)
    @given(st.binary(max_size=300) | st.builds(lambda body: struct.pack("<I", __import__("zlib").crc32(body)) + body,
                                               st.binary(min_size=11, max_size=300)))
    def run(data):
        findings.call(decode, data)

    run()
    findings.check()


class _ScriptedTransport:
    """A transport whose reads come from a script of byte strings; writes are kept."""

    url = "fuzz://"

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.written = bytearray()

    def read(self, n, timeout):
        from sedge.runtime.transport import TransportTimeout

        if not self.chunks:
            raise TransportTimeout("script ended")
        return self.chunks.pop(0)[:n] or b"\x00"

    def write(self, data, timeout):
        self.written += data


_SCALARS = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=20)
_FIELD_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
_OPS = st.sampled_from(["info", "upload_begin", "upload_chunk", "upload_end", "run", "nope", ""])
_FIELDS = st.fixed_dictionaries({"op": _OPS}, optional={
    "sha256": st.sampled_from(["0" * 64, "g" * 64, "", "../" * 20]) | _FIELD_VALUES,
    "size": _FIELD_VALUES, "offset": _FIELD_VALUES, "warmup": _FIELD_VALUES, "repeat": _FIELD_VALUES,
    "number": _FIELD_VALUES, "seed": _FIELD_VALUES, "rtol": _FIELD_VALUES, "device": _FIELD_VALUES})


def test_board_session_and_agent_requests():
    """The board side: a session start, then requests with arbitrary fields (and mutated
    frames) through BoardSession and the real Agent. Nothing escapes serve_one, every reply
    decodes, and no reply is an internal error: each bad field is refused by name."""
    from sedge.runtime.agent.server import Agent
    from sedge.runtime.protocol import BoardSession
    from sedge.runtime.protocol.framing import FrameDecoder, encode_frame
    from sedge.runtime.protocol.messages import PROTOCOL_VERSION, Message, MessageType

    findings = Findings("session")
    workdir = tempfile.TemporaryDirectory(prefix="sedge-fuzz-agent-")
    agent = Agent(Path(workdir.name))

    @examples(100, 3000)
    @given(st.lists(st.tuples(_FIELDS, st.binary(max_size=64)), min_size=1, max_size=6),
           st.lists(_MUTATION, max_size=3), st.integers(0, 2**32 - 1), st.booleans())
    def run(requests, mutations, nonce, right_session):
        start = Message(MessageType.START_INIT, fields={"protocol": PROTOCOL_VERSION, "nonce": nonce})
        probe = BoardSession(_ScriptedTransport([encode_frame(start.encode())]), agent.handle, {"fuzz": True},
                             poll=0.001)
        probe.serve_one()
        session_id = probe.session_id if right_session else (probe.session_id or 0) ^ 0x55
        wire = [encode_frame(start.encode())] + [
            encode_frame(Message(MessageType.REQUEST, session_id, i + 1, fields, blob).encode())
            for i, (fields, blob) in enumerate(requests)]
        stream = _mutate(b"".join(wire[1:]), mutations) if mutations else b"".join(wire[1:])
        transport = _ScriptedTransport([wire[0], stream])
        session = BoardSession(transport, agent.handle, {"fuzz": True}, poll=0.001)
        agent.session = session
        STATS["session"]["frames"] += len(wire)

        def serve():
            for _ in range(len(requests) + 3):
                session.serve_one()
            return transport.written

        written = findings.call(serve, describe=lambda: f"requests {requests} mutations {mutations}")
        if written is None:
            return
        for payload in FrameDecoder().feed(bytes(written)):
            reply = Message.decode(payload)
            error = reply.fields.get("error", "")
            if error.startswith("internal error"):
                findings.found.setdefault(f"reply: {error[:160]}", repr(requests)[:300])

    run()
    workdir.cleanup()
    findings.check()


def test_host_session_on_garbage_replies():
    """The host side: whatever the line brings back, request() answers or raises a SedgeError."""
    from sedge.runtime.protocol import HostSession
    from sedge.runtime.protocol.framing import encode_frame
    from sedge.runtime.protocol.messages import Message, MessageType

    findings = Findings("host-session")

    @examples(100, 3000)
    @given(st.lists(st.tuples(st.sampled_from(list(MessageType)), st.booleans(), st.booleans(),
                              st.dictionaries(st.sampled_from(["error", "host_nonce", "board", "level", "text",
                                                               "offset"]), _FIELD_VALUES, max_size=3)),
                    max_size=5),
           st.lists(_MUTATION, max_size=2))
    def run(replies, mutations):
        host = HostSession(_ScriptedTransport([]), timeout=0.001, retries=1, on_log=lambda level, text: None)
        host.session_id = 0x1234

        def exchange():
            wire = b"".join(encode_frame(Message(kind, 0x1234 if same else 7, 1 if rid else 9, fields).encode())
                            for kind, same, rid, fields in replies)
            host.channel.transport.chunks = [_mutate(wire, mutations) if mutations else wire]
            return host.request("info")

        findings.call(exchange, describe=lambda: repr(replies)[:300])

    run()
    findings.check()


# ---------------------------------------------------------------- command-line parsers

_SHAPE_TEXT = st.text(alphabet="xy_:[],0123456789- \t.eE+", max_size=40)


def test_input_shapes_parser():
    from sedge.frontend.shapes import parse_input_shapes

    findings = Findings("input-shapes")

    @examples(400, 20000)
    @given(_SHAPE_TEXT | st.text(max_size=40)
           | st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_.]{0,8}", fullmatch=True),
                             st.lists(st.integers(1, 4096), min_size=1, max_size=5), min_size=1, max_size=3))
    def run(value):
        if isinstance(value, dict):  # well-formed: must round-trip
            text = " ".join(f"{name}:[{','.join(map(str, dims))}]" for name, dims in value.items())
            parsed = findings.call(parse_input_shapes, text)
            assert parsed == value, (text, parsed)
            return
        parsed = findings.call(parse_input_shapes, value)
        if parsed is not None:
            assert all(all(type(d) is int and d > 0 for d in dims) for dims in parsed.values()), (value, parsed)

    run()
    findings.check()


def _target_text():
    options = st.sampled_from(["mcpu", "mtriple", "mattr", "num-cores", "arch", "max_num_threads", "opt-level",
                               "mabi", "nope", "", "-", "host"])
    values = st.sampled_from(["", "znver4", "skylake-avx512", "native", "aarch64-linux-gnu", "+neon,+avx2", "abc",
                              "-1", "0", "99999999999999999999", "true", "sm_80", "=", "'", '"', "{}"]) | \
        st.text(max_size=8)
    word = st.tuples(st.sampled_from(["-", "--", ""]), options, st.sampled_from(["=", " ", ""]), values).map(
        lambda t: "".join(t))
    return st.tuples(st.sampled_from(["llvm", "cuda", "c", "", "tpu", "cuda, llvm", "llvm, cuda", "{", "x.json"]),
                     st.lists(word, max_size=4)).map(lambda t: " ".join([t[0], *t[1]]))


def test_target_parser():
    from sedge.tvm_passes.target import parse_target

    findings = Findings("target")
    parse_target("llvm")  # imports TVM and asks LLVM for the host CPU once, outside the time bound

    @examples(150, 3000)
    @given(_target_text() | st.text(max_size=30)
           | st.dictionaries(st.sampled_from(["kind", "mcpu", "mtriple", "num-cores", "host", "keys", "zzz"]),
                             _FIELD_VALUES, max_size=4).map(json.dumps))
    def run(text):
        findings.call(parse_target, text, seconds=5.0)

    run()
    findings.check()


def test_pass_config_parser():
    from sedge.tvm_passes.pass_config import parse_pass_configs

    findings = Findings("pass-config")
    names = st.sampled_from(["tir.disable_vectorize", "tirx.disable_vectorize", "tir.add_lower_pass",
                             "relax.backend.use_cuda_graph", "zz.none", "", "="]) | st.text(max_size=10)
    values = st.sampled_from(["true", "false", "1", "0", "-5", "", "1,tir.transform.UnrollLoop",
                              "9,tir.transform.UnrollLoop", "1,zz_no_module.zz_pass", "1", "a,b,c", "1,"]) | \
        st.text(alphabet="0123456789,.abz_=", max_size=12)

    @examples(300, 10000)
    @given(st.lists(st.tuples(names, st.sampled_from(["=", "", "=="]), values).map(lambda t: "".join(t)), max_size=4))
    def run(entries):
        findings.call(parse_pass_configs, entries, seconds=5.0)

    run()
    findings.check()


# ---------------------------------------------------------------- board files

_BOARD_VALUES = ["-1", "0", "1e400", "-1e400", "nan", "inf", "-inf", '"x"', "true", "[]", "{}", "[1, 2]",
                 '{ int8 = 1 }', "1", "1.5", '""', '"raspberry-pi-4"', '"../../etc/passwd"', '"/"', '"host"']


def test_board_file_loader():
    """Shipped board files with values replaced, lines dropped or duplicated, and raw text."""
    from sedge.boards import BOARDS_DIR, list_boards, load_board

    findings = Findings("boards")
    texts = {name: (BOARDS_DIR / f"{name}.toml").read_text().splitlines() for name in list_boards() if name != "host"}
    directory = tempfile.TemporaryDirectory(prefix="sedge-fuzz-boards-")
    path = Path(directory.name) / "board.toml"

    @examples(200, 5000)
    @given(st.sampled_from(sorted(texts)),
           st.lists(st.tuples(st.sampled_from(["value", "drop", "dup", "raw"]), st.integers(0, 1 << 20),
                              st.sampled_from(_BOARD_VALUES) | st.text(max_size=12)), min_size=1, max_size=4))
    def run(name, edits):
        lines = list(texts[name])
        for kind, where, value in edits:
            at = where % len(lines)
            if kind == "value" and "=" in lines[at]:
                lines[at] = lines[at].split("=", 1)[0] + "= " + value
            elif kind == "drop":
                del lines[at]
            elif kind == "dup":
                lines.insert(at, lines[at])
            else:
                lines.insert(at, value)
            if not lines:
                lines = [""]
        path.write_text("\n".join(lines))
        board = findings.call(load_board, str(path), describe=lambda: f"{name} edits {edits}")
        if board is not None:
            import math
            numbers = [board.compute.clock_hz, board.node_nm, board.dram.size_bytes, board.dram.bandwidth_gbps,
                       *board.compute.macs_per_cycle.values(), *(level.size_bytes for level in board.sram)]
            assert all(math.isfinite(n) and n > 0 for n in numbers), f"a board with {numbers} was accepted: {edits}"

    run()
    directory.cleanup()
    findings.check()


# ---------------------------------------------------------------- packages

def test_package_reader():
    from reliability_helpers import make_package, v1_package

    from sedge.runtime.package import open_package

    findings = Findings("packages")
    directory = Path(tempfile.mkdtemp(prefix="sedge-fuzz-packages-"))
    good = make_package(directory, "good.tar", library=b"\x7fELF" + bytes(200))
    bases = [good.read_bytes(), v1_package(good, directory / "v1.tar").read_bytes()]
    path = directory / "fuzzed.tar"

    @examples(300, 5000)
    @given(st.sampled_from([0, 1]), st.lists(_MUTATION, min_size=1, max_size=4))
    def run(which, mutations):
        path.write_bytes(_mutate(bases[which], mutations))
        package = findings.call(open_package, path, describe=lambda: f"base {which} mutations {mutations}")
        if package is not None:
            package.workdir.cleanup()

    @examples(100, 2000)
    @given(st.lists(st.tuples(st.sampled_from(["metadata.json", "params.npz", "mod.so", "mod.tar", "../x", "/x",
                                               "a/b", ""]),
                              st.sampled_from([tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE,
                                               tarfile.FIFOTYPE, tarfile.CHRTYPE]),
                              st.binary(max_size=40) | st.sampled_from([b"{}", b'{"format": "sedge-package"}'])),
                    max_size=5))
    def structured(entries):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, kind, data in entries:
                info = tarfile.TarInfo(name or "x")
                info.type = kind
                if kind == tarfile.REGTYPE:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                else:
                    info.linkname = "metadata.json"
                    tar.addfile(info)
        path.write_bytes(buffer.getvalue())
        package = findings.call(open_package, path, describe=lambda: repr(entries)[:300])
        if package is not None:
            package.workdir.cleanup()

    run()
    structured()
    findings.check()


# ---------------------------------------------------------------- the ONNX importer

def _base_models():
    """Two small models covering common operators: an MLP and a conv net with a reshape."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    mlp = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Add", ["y", "b"], ["z"]),
         helper.make_node("Relu", ["z"], ["r"]), helper.make_node("Softmax", ["r"], ["out"], axis=-1)], "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 16])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 8])],
        [numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w"),
         numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b")])
    conv = helper.make_graph(
        [helper.make_node("Conv", ["x", "k"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("BatchNormalization", ["c", "s", "o", "m", "v"], ["n"], epsilon=1e-5),
         helper.make_node("Relu", ["n"], ["r"]),
         helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Reshape", ["p", "shape"], ["f"]),
         helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], transB=1),
         helper.make_node("Concat", ["g", "g"], ["cat"], axis=1),
         helper.make_node("Gather", ["cat", "idx"], ["out"], axis=1)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "k"),
         *(numpy_helper.from_array(rng.random(4).astype(np.float32) + 0.5, n) for n in ("s", "o", "m", "v")),
         numpy_helper.from_array(np.array([1, 64], np.int64), "shape"),
         numpy_helper.from_array(rng.standard_normal((5, 64)).astype(np.float32), "fw"),
         numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fb"),
         numpy_helper.from_array(np.array([0, 4, 9], np.int64), "idx")])
    return [helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8) for g in (mlp, conv)]


_OPS_POOL = ["Relu", "Add", "MatMul", "Conv", "Reshape", "Gather", "Concat", "Softmax", "Transpose", "Flatten",
             "Identity", "Sigmoid", "Slice", "Squeeze", "Unsqueeze", "ReduceMean", "Pad", "Mul", "Where", "Cast",
             "Expand", "Tile", "Split", "TopK", "NonZero", "Resize", "LSTM", "MysteryOp", ""]


def _mutate_model(model, rng: random.Random):
    """One to three structural mutations, or a byte-level one of the serialized model."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    done = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["op", "drop", "input", "attr", "dim", "init_dims", "init_type", "opset", "output",
                           "dtype", "bytes"])
        nodes = graph.node
        node = nodes[rng.randrange(len(nodes))] if len(nodes) else None
        if kind == "op" and node is not None:
            node.op_type = rng.choice(_OPS_POOL)
        elif kind == "drop" and node is not None:
            nodes.remove(node)
        elif kind == "input" and node is not None and node.input:
            names = [t.name for t in graph.initializer] + [o for n in nodes for o in n.output] + ["", "dangling"]
            node.input[rng.randrange(len(node.input))] = rng.choice(names)
        elif kind == "attr" and node is not None:
            name = rng.choice(["axis", "kernel_shape", "pads", "strides", "transB", "epsilon", "perm", "group",
                               "dilations", "zz"])
            value = rng.choice([0, -1, 1, 3, -100, 10**9, [0, 0], [1, 1], [3, 3], [-1, 2], [1, 1, 1, 1],
                                [2, 2, 2, 2, 2], 0.5, "same"])
            del_at = [i for i, a in enumerate(node.attribute) if a.name == name]
            for i in reversed(del_at):
                del node.attribute[i]
            node.attribute.append(helper.make_attribute(name, value))
        elif kind == "dim":
            value = graph.input[0].type.tensor_type.shape.dim
            dim = value[rng.randrange(len(value))]
            choice = rng.choice([0, -1, 1, 10**6, "N", None])
            if choice is None:
                dim.Clear()
            elif isinstance(choice, str):
                dim.dim_param = choice
            else:
                dim.dim_value = choice
        elif kind == "init_dims" and len(graph.initializer):
            init = graph.initializer[rng.randrange(len(graph.initializer))]
            if len(init.dims):
                init.dims[rng.randrange(len(init.dims))] = rng.choice([0, 1, 2, 3, 1000])
        elif kind == "init_type" and len(graph.initializer):
            graph.initializer[rng.randrange(len(graph.initializer))].data_type = rng.choice(
                [TensorProto.INT64, TensorProto.FLOAT16, TensorProto.STRING, TensorProto.BOOL, 0, 99])
        elif kind == "opset":
            model.opset_import[0].version = rng.choice([1, 7, 11, 13, 18, 21, 22, 30, 999])
        elif kind == "output":
            graph.output[0].name = rng.choice(["nothere", graph.input[0].name, ""])
        elif kind == "dtype":
            graph.input[0].type.tensor_type.elem_type = rng.choice(
                [TensorProto.INT8, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.STRING, 0, 77])
        elif kind == "bytes":
            data = bytearray(model.SerializeToString())
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            done.append("bytes")
            return bytes(data), done
        done.append(kind)
    return model.SerializeToString(), done


def test_onnx_importer_on_mutated_models():
    """Mutated models through sedge's ONNX loader: each imports or is refused with a SedgeError."""
    from sedge.frontend.loaders import load_model

    findings = Findings("onnx")
    bases = _base_models()
    directory = tempfile.TemporaryDirectory(prefix="sedge-fuzz-onnx-")
    path = Path(directory.name) / "mutated.onnx"

    @examples(25, 1100)
    @given(st.integers(0, len(bases) - 1), st.integers(0, 2**32 - 1))
    def run(which, seed):
        data, mutations = _mutate_model(bases[which], random.Random(seed))
        path.write_bytes(data)
        findings.call(load_model, str(path), None, None, seconds=30.0,
                      describe=lambda: f"base {which} seed {seed}: {mutations}")

    run()
    directory.cleanup()
    findings.check()


