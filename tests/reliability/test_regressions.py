"""In-process regression tests for defects the fuzzers found (the CLI ones are rows of the matrix)."""
import json
import struct
import zlib

import pytest

from sedge.errors import SedgeError


def _message_bytes(fields_json: bytes) -> bytes:
    rest = struct.pack("<BHII", 6, 1, 1, len(fields_json)) + fields_json
    return struct.pack("<I", zlib.crc32(rest)) + rest


@pytest.mark.parametrize("fields, why", [
    (b"[1, 2]", "not an object"),  # HostSession then called .get on a list: AttributeError
    (b"[" * 100_000 + b"]" * 100_000, "undecodable"),  # json's RecursionError escaped Message.decode
    (b"7", "not an object"),
])
def test_message_fields_must_be_a_json_object(fields, why):
    from sedge.runtime.protocol.messages import BadMessage, Message

    with pytest.raises(BadMessage, match=why):
        Message.decode(_message_bytes(fields))


def test_message_fields_running_past_the_end():
    from sedge.runtime.protocol.messages import BadMessage, Message

    data = bytearray(_message_bytes(b"{}"))
    data[11:15] = struct.pack("<I", 500)
    data[:4] = struct.pack("<I", zlib.crc32(bytes(data[4:])))
    with pytest.raises(BadMessage, match="run past its end"):
        Message.decode(bytes(data))


@pytest.mark.parametrize("fields, message", [
    ({"op": "upload_chunk", "sha256": "0" * 64, "offset": "abc"}, "bad request field offset='abc'"),
    ({"op": "upload_chunk", "sha256": "0" * 64, "offset": 1.5}, "bad request field offset=1.5"),
    ({"op": "upload_chunk", "sha256": "0" * 64, "offset": -3}, "allowed: an integer 0.."),
    ({"op": "upload_begin", "sha256": "0" * 64, "size": True}, "bad package size True"),
])
def test_agent_refuses_bad_request_fields_by_name(tmp_path, fields, message):
    """int('abc') on the board was an 'internal error on the board' reply."""
    from sedge.runtime.agent.server import Agent

    with pytest.raises(SedgeError, match=message):
        Agent(tmp_path).handle(fields, b"", lambda: None)


def test_agent_refuses_bad_run_fields_before_starting_a_runner(tmp_path):
    from reliability_helpers import make_package

    from sedge.files import sha256_file
    from sedge.runtime.agent.server import Agent

    agent = Agent(tmp_path / "agent")
    package = make_package(tmp_path)
    sha = sha256_file(package)
    (agent.store.packages / f"{sha}.tar").write_bytes(package.read_bytes())
    for field, value in (("repeat", "10"), ("repeat", 0), ("number", 10**50), ("warmup", None), ("seed", 1.5)):
        with pytest.raises(SedgeError, match=f"bad request field {field}="):
            agent.handle({"op": "run", "sha256": sha, field: value}, b"", lambda: None)
    with pytest.raises(SedgeError, match="bad run field rtol=nan"):
        agent.handle({"op": "run", "sha256": sha, "rtol": float("nan")}, b"", lambda: None)


def test_agent_store_under_a_file_is_one_line(tmp_path):
    from sedge.runtime.agent.store import PackageStore

    (tmp_path / "file").write_text("x")
    with pytest.raises(SedgeError, match="cannot create the agent's store in"):
        PackageStore(tmp_path / "file" / "agent")


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e400"])
def test_board_numbers_must_be_finite(tmp_path, value):
    """TOML's inf / nan (and 1e400, which overflows to inf) passed the schema's '> 0' bounds."""
    from sedge.boards import load_board

    (tmp_path / "b.toml").write_text(f'inherit = "raspberry-pi-4"\n[compute]\nclock_hz = {value}\n')
    with pytest.raises(SedgeError, match=r"field compute\.clock_hz is (inf|nan|-inf); allowed: a finite number"):
        load_board(str(tmp_path / "b.toml"))


def test_metadata_with_deep_json_or_bad_tensor_specs_is_one_line():
    from sedge.contract import Metadata

    with pytest.raises(SedgeError, match="is not valid JSON"):
        Metadata.from_json("[" * 100_000)
    base = {"format": "sedge-package", "format_version": 1, "sedge_version": "0", "tvm_version": "0",
            "target": {}, "outputs": [], "passes": [], "layers": [], "params": []}
    for inputs in ([{"name": "x", "shape": "abc"}], [{"name": "x", "shape": [-1]}], ["x"], [{"name": 1, "shape": []}]):
        with pytest.raises(SedgeError, match="missing or has a malformed field"):
            Metadata.from_json(json.dumps(base | {"inputs": inputs}))


def test_a_0_d_input_runs(tmp_path):
    """A scalar graph input: the executor copied it as numpy's ascontiguousarray made it, 1-d,
    into its 0-d tensor (an internal error in `sedge run`)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    import sedge

    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "s"], ["y"])], "scalar_input",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "m.onnx"))
    package = sedge.compile(sedge.load(str(tmp_path / "m.onnx")), sedge.CompileOptions(output=str(tmp_path / "m.tar")))
    inputs = {"x": np.arange(3, dtype=np.float32), "s": np.array(2.0, np.float32)}
    result = sedge.run(package, sedge.RunOptions(inputs=inputs, verify=True))
    np.testing.assert_array_equal(result.outputs[0], [2.0, 3.0, 4.0])
    assert result.verification.passed
