"""Shared fixtures: small models exported from torch, the CLI run as a user runs it, and a
TVM RPC tracker with servers on 127.0.0.1."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent  # the environment's console scripts: sedge, tvmc


def run_cli(*args, program="sedge", cwd=None, timeout=600):
    """Run `sedge ...` (or `tvmc ...`) in a subprocess; returns the CompletedProcess."""
    return subprocess.run([str(BIN / program), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


@pytest.fixture(scope="session")
def resnet_onnx(tmp_path_factory):
    """A ResNet-style CNN (the demo's DemoNet) exported to ONNX at 1x3x32x32."""
    import torch

    from sedge.frontend.demo_model import demo_model
    from sedge.frontend.export import export_onnx

    path = tmp_path_factory.mktemp("models") / "resnet.onnx"
    export_onnx(demo_model(), torch.rand(1, 3, 32, 32), str(path))
    return path


@pytest.fixture(scope="session")
def resnet_pt2(tmp_path_factory):
    """The same CNN as a torch.export program."""
    import torch

    from sedge.frontend.demo_model import demo_model

    path = tmp_path_factory.mktemp("models") / "resnet.pt2"
    torch.export.save(torch.export.export(demo_model(), (torch.rand(1, 3, 32, 32),)), str(path))
    return path


@pytest.fixture(scope="session")
def compiled_resnet(resnet_onnx, tmp_path_factory):
    """The ONNX CNN compiled for the host, through the Python API."""
    import sedge

    out = tmp_path_factory.mktemp("packages") / "resnet.tar"
    return sedge.compile(sedge.load(str(resnet_onnx)), sedge.CompileOptions(output=str(out)))


RPC_KEY = "sedge-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def tracker():
    """host:port of a real TVM tracker with two servers under RPC_KEY. Each launcher runs
    its service in a child process, so every process is started in its own session and
    stopped by process group: no port stays bound after the tests."""
    from sedge.errors import SedgeError
    from sedge.runtime.rpc import servers_for_key

    port = _free_port()
    address = f"127.0.0.1:{port}"
    commands = [["tvm.exec.rpc_tracker", "--host", "127.0.0.1", "--port", str(port), "--port-end", str(port + 1)]]
    for _ in range(2):
        server_port = _free_port()
        commands.append(["tvm.exec.rpc_server", "--host", "127.0.0.1", "--port", str(server_port),
                         "--port-end", str(server_port + 1), "--tracker", address, "--key", RPC_KEY])
    processes = []
    try:
        for command in commands:
            processes.append(subprocess.Popen([sys.executable, "-m", *command], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL, start_new_session=True))
            time.sleep(0.5 if len(processes) == 1 else 0)
        deadline = time.monotonic() + 60
        while True:
            try:
                if servers_for_key(address, RPC_KEY) == 2:
                    break
            except SedgeError:
                pass
            assert all(p.poll() is None for p in processes), "an RPC launcher exited: is apache-tvm[rpc] installed?"
            assert time.monotonic() < deadline, "the RPC tracker and servers did not come up"
            time.sleep(0.3)
        yield address
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)  # the launcher and the service child it started
        for process in processes:
            process.wait(timeout=10)


# an 8-core AVX2 machine, as lscpu would print it: estimates and boards that read the host
# model give the same numbers on every machine running the tests
FIXED_LSCPU = {"CPU(s)": "8", "Model name": "Test CPU", "CPU max MHz": "3000.0000",
               "Flags": "fpu sse avx2 fma", "L1d cache": "256 KiB (8 instances)",
               "L2 cache": "8 MiB (8 instances)", "L3 cache": "16 MiB (1 instance)"}


@pytest.fixture
def fixed_host(monkeypatch):
    """sedge.host describes FIXED_LSCPU's machine (8 CPUs, 8 cores); the real one afterwards."""
    import sedge.host

    monkeypatch.setattr(sedge.host, "_lscpu", lambda: FIXED_LSCPU)
    monkeypatch.setattr(sedge.host, "_usable_cpus", lambda: list(range(8)))
    monkeypatch.setattr(sedge.host, "_physical_cores", len)
    sedge.host.this_host.cache_clear()
    yield sedge.host.this_host()
    sedge.host.this_host.cache_clear()
