"""Helpers shared by the device tests: a tiny compiled package and the real agent on a pty."""
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(0)
W = RNG.standard_normal((64, 16)).astype(np.float32)
B = RNG.standard_normal(16).astype(np.float32)
X = RNG.standard_normal((2, 64)).astype(np.float32)
EXPECTED = np.maximum(X @ W + B, 0)  # the numpy reference device outputs are checked against


def tiny_onnx(path: Path) -> Path:
    """relu(x @ W + B) as an ONNX file."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Add", ["y", "b"], ["z"]),
         helper.make_node("Relu", ["z"], ["out"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 64])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 16])],
        [numpy_helper.from_array(W, "w"), numpy_helper.from_array(B, "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def tiny_package(directory: Path, **options) -> Path:
    """The tiny model compiled into a package (for this host unless `options` say otherwise)."""
    from sedge.api import compile as sedge_compile
    from sedge.tvm_passes.build import CompileOptions

    output = directory / "tiny.tar"
    sedge_compile(str(tiny_onnx(directory / "tiny.onnx")), CompileOptions(output=str(output), **options))
    return output


def start_agent(port: str, workdir: Path) -> subprocess.Popen:
    """`sedge agent` on `port`, returned once it listens; its log is workdir/../agent.log."""
    log_path = workdir.parent / f"{workdir.name}-agent.log"
    with open(log_path, "w") as log:
        agent = subprocess.Popen([sys.executable, "-m", "sedge", "agent", "--port", port, "--workdir", str(workdir),
                                  "--keepalive", "0.1"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while "listening" not in log_path.read_text():
        assert agent.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.05)
    return agent
