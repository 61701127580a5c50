"""`sedge run` on a device: picks the serial agent or TVM RPC from the flags and a board file.

Inputs and expected outputs are .npz files in `sedge run`'s own formats (inputs by name;
outputs as output_0, output_1, ... as `sedge run --outputs` writes them), so the usual
check is: run on the host with `--outputs expected.npz`, then on the board with
`--expected expected.npz`.
"""
from __future__ import annotations

import sys

import numpy as np
from tqdm import tqdm

from sedge.errors import SedgeError
from sedge.runtime.board_run import bench_on_board, board_link
from sedge.runtime.device_result import DeviceResult
from sedge.runtime.rpc import bench_over_rpc


def _npz(path: str | None, what: str) -> dict[str, np.ndarray]:
    if path is None:
        return {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as err:
        raise SedgeError(f"{what} '{path}' is not a readable .npz file ({err})") from None


def _expected(path: str | None) -> list[np.ndarray] | None:
    arrays = _npz(path, "--expected")
    if path is None:
        return None
    names = [f"output_{i}" for i in range(len(arrays))]
    if sorted(arrays) != sorted(names):
        raise SedgeError(f"--expected '{path}' must hold output_0 ... output_N (as `sedge run --outputs` writes), "
                         f"found {sorted(arrays)}")
    return [arrays[name] for name in names]


def _log(level: str, text: str) -> None:
    tqdm.write(f"board {level}: {text}", file=sys.stderr)


class _Progress:
    """One stderr bar per package: bytes while uploading, then elapsed time while the board runs."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def upload(self, done: int, total: int) -> None:
        if self.bar is None or done < self.bar.n or self.bar.desc != "upload":
            self.close()
            self.bar = tqdm(desc="upload", total=total, unit="B", unit_scale=True, disable=not self.enabled,
                            file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def running(self) -> None:
        if self.bar is None or self.bar.desc != "running":
            self.close()
            self.bar = tqdm(desc="running", bar_format="{desc}: {elapsed}", disable=not self.enabled,
                            file=sys.stderr)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def bench_remote(packages: list, *, port: str | None = None, board: str | None = None,
                 rpc_tracker: str | None = None, rpc_key: str | None = None, inputs: str | None = None,
                 expected: str | None = None, repeat: int = 10, number: int = 1, timeout: float = 3.0,
                 return_outputs: bool = False, show_progress: bool = True) -> list[DeviceResult]:
    """Run each package on the device the flags name: a serial port, an RPC key, or a board file's link."""
    link = board_link(board)
    if port and rpc_tracker:
        raise SedgeError("give either --port (a serial board) or --rpc-tracker (TVM RPC), not both")
    if rpc_key and not rpc_tracker:
        raise SedgeError("--rpc-key needs --rpc-tracker host:port")
    if expected and not inputs:
        raise SedgeError("--expected needs --inputs: the inputs the expected outputs were computed from")
    options = {"inputs": _npz(inputs, "--inputs"), "expected": _expected(expected), "repeat": repeat,
               "number": number, "return_outputs": return_outputs}
    if rpc_tracker:
        key = rpc_key or link.get("rpc_key")
        if not key:
            raise SedgeError("--rpc-tracker needs --rpc-key KEY (or a --board whose file names an rpc_key)")
        return bench_over_rpc(packages, rpc_tracker, key, **options)
    if not port:
        where = f"board '{board}' is reached by '{link.get('kind')}': " if board else ""
        raise SedgeError(f"{where}give --port URL for a serial agent or --rpc-tracker host:port for TVM RPC")
    progress = _Progress(show_progress)
    try:
        return bench_on_board(packages, port, board=board, timeout=timeout, progress=progress.upload,
                              on_keepalive=progress.running, on_log=_log, **options)
    finally:
        progress.close()


def run_remote(package, **options) -> DeviceResult:
    """`bench_remote` for one package."""
    return bench_remote([package], **options)[0]
