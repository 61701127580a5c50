"""Benchmarks through TVM's RPC tracker: the networked boards and farms TVM already serves.

Nothing here re-implements a distributed engine: `python -m tvm.exec.rpc_tracker` hands out
the `rpc_server`s registered under a key, and `bench_over_rpc` only keeps as many packages
in flight as the key has servers, so the tracker spreads them over the farm.
"""
from __future__ import annotations

import concurrent.futures
import socket
import time

import numpy as np

from sedge.errors import SedgeError, one_line
from sedge.runtime.agent.job import DEFAULT_ATOL, DEFAULT_RTOL, compare, make_inputs
from sedge.runtime.device_result import DeviceResult
from sedge.runtime.package import open_package
from sedge.runtime.stats import TimingStats


def parse_tracker(text: str) -> tuple[str, int]:
    host, sep, port = (text or "").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SedgeError(f"bad --rpc-tracker '{text}'; expected host:port, e.g. 127.0.0.1:9190")
    return host, int(port)


def _tracker(address: str):
    from tvm import rpc

    host, port = parse_tracker(address)
    try:
        socket.create_connection((host, port), timeout=5).close()  # TVM itself would retry for a minute
        return rpc.connect_tracker(host, port)
    except (RuntimeError, OSError) as err:
        raise SedgeError(f"cannot reach the RPC tracker at {address} ({one_line(err)}); start it with "
                         f"`python -m tvm.exec.rpc_tracker --host {host} --port {port}`") from None


def servers_for_key(tracker: str, key: str) -> int:
    """How many servers are registered under `key`; an error naming the keys there are, if none."""
    summary = _tracker(tracker).summary()
    count = sum(1 for s in summary.get("server_info", []) if s["key"].split(":", 1)[-1] == key)
    if not count:
        keys = sorted({s["key"].split(":", 1)[-1] for s in summary.get("server_info", [])})
        raise SedgeError(f"no RPC server registered under key '{key}' at {tracker}; keys there: "
                         f"{', '.join(keys) or 'none'} (start one with `python -m tvm.exec.rpc_server "
                         f"--tracker {tracker} --key {key}`)")
    return count


def _transformed_weights(package) -> list[np.ndarray]:
    """The package's `main_transform_params` applied to its weights, on this machine.

    TVM 0.27's RPC server crashes when a remote call returns a tensor taken out of an array
    (ffi.ArrayGetItem, the VM's get_output), so transformed weights cannot be fetched from the
    server; the transform runs here instead, which needs a library this machine can load.
    """
    import tvm
    from tvm.runtime.vm import VirtualMachine

    try:
        vm = VirtualMachine(tvm.runtime.load_module(str(package.library_path)), tvm.cpu())
    except Exception:  # noqa: BLE001 - whatever the loader says, the library is not for this machine
        raise SedgeError(f"{package.path} transforms its weights at load time, which TVM 0.27's RPC cannot do on "
                         "the server and this machine cannot do for its architecture; run it through the board "
                         "agent (`sedge run --port`) instead") from None
    params = [tvm.runtime.tensor(p, tvm.cpu()) for p in package.params]
    return [t.numpy() for t in vm["main_transform_params"](params)]


def run_over_rpc(package, tracker: str, key: str, *, warmup: int = 1, repeat: int = 10, number: int = 1,
                 inputs: dict[str, np.ndarray] | None = None, expected: list[np.ndarray] | None = None,
                 return_outputs: bool = False, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                 seed: int = 0, device: str = "cpu") -> DeviceResult:
    """Upload `package`'s library to a server under `key`, load it there and time `main`."""
    import tvm
    from tvm.runtime.vm import VirtualMachine

    servers_for_key(tracker, key)
    package = open_package(package)
    remote = _tracker(tracker).request(key, session_timeout=0)
    name = f"sedge-{package.sha256[:16]}.so"
    try:
        start = time.perf_counter()
        remote.upload(str(package.library_path), target=name)
        dev = remote.device(device, 0)
        vm = VirtualMachine(remote.load_module(name), dev)
        weights = _transformed_weights(package) if vm.module.implements_function("main_transform_params") \
            else package.params
        params = [tvm.runtime.tensor(w, dev) for w in weights]
        load_s = time.perf_counter() - start
    except SedgeError:
        raise
    except Exception as err:  # tvm-ffi raises plain Python error types (RuntimeError, ValueError, ...)
        raise SedgeError(f"the RPC server under key '{key}' cannot load {package.path} (built for "
                         f"{package.metadata.target.get('mtriple') or package.metadata.target.get('kind')}): "
                         f"{one_line(err, last=True)}") from None
    values = make_inputs(package.metadata, inputs or {}, seed)
    args = [tvm.runtime.tensor(values[spec.name], dev) for spec in package.metadata.inputs] + params
    start = time.perf_counter()
    out = vm["main"](*args)
    outputs = [o.numpy() for o in ([out] if hasattr(out, "numpy") else out)]
    first_run_ms = (time.perf_counter() - start) * 1e3
    for _ in range(warmup):
        vm["main"](*args)
    vm.set_input("main", *args)
    timer = vm.time_evaluator("invoke_stateful", dev, number=number, repeat=repeat)
    samples = tuple(r * 1e3 for r in timer("main").results)
    remote.remove(name)
    return DeviceResult(
        package=str(package.path), sha256=package.sha256, target=package.metadata.target,
        device=f"rpc key '{key}' via {tracker}", board={"key": key},
        versions={"sedge_version": package.metadata.sedge_version, "tvm_version": package.metadata.tvm_version},
        stats=TimingStats(samples), first_run_ms=first_run_ms, load_s=load_s,
        check=compare(outputs, [np.asarray(e) for e in expected], rtol, atol) if expected else None,
        outputs=outputs if return_outputs else None)


def bench_over_rpc(packages: list, tracker: str, key: str, **options) -> list[DeviceResult]:
    """Run every package on the servers under `key`, as many at once as there are servers."""
    workers = servers_for_key(tracker, key)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: run_over_rpc(p, tracker, key, **options), packages))
