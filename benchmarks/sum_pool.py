"""The sum-pool kernel alone (tvm_passes/kernels/sum_pool.py), beside another version of it.

    python -m benchmarks.sum_pool [--against OLD.py] [--rounds 15] [--threads 1] [--json FILE]

For kernel work: each geometry's pool is built alone (`te.create_prim_func`, this host's
target) and timed with TVM's time evaluator, one geometry at a time, in interleaved rounds.
`--against` names another sum_pool.py, e.g. the kernel at an earlier commit
(`git show REV:tvm_passes/kernels/sum_pool.py > old.py`): both versions are built and timed
in turn in each round, so that a slow spell of a shared machine falls on both, and each is
checked against the method's PyTorch sum-pool in float64. The geometries are every channel
window of mobilenetv2-struct-b and shapes the zoo has none of (odd window sizes and output
counts, groups, a spatial window).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np

ZOO_MODEL = "mobilenetv2-struct-b"  # the zoo's channel windows
# shapes the zoo has none of, name: ((B, H, W, C), groups, c, spatial window, padding)
OFF_ZOO = {
    "c75 of 150 14x14": ((1, 14, 14, 150), 1, 75, 1, 0),
    "c29 of 60 28x28": ((1, 28, 28, 60), 1, 29, 1, 0),
    "c7 of 33 28x28": ((1, 28, 28, 33), 1, 7, 1, 0),
    "c1 of 9 6x5": ((1, 6, 5, 9), 1, 1, 1, 0),
    "c6 of 12 x2 groups, 3x3 window 8x8": ((2, 8, 8, 24), 2, 6, 3, 1),
}


def geometries() -> dict:
    """{name: geometry}: every distinct channel-window pool of ZOO_MODEL (as
    benchmarks.structured_layers finds its layers), then OFF_ZOO."""
    from benchmarks.structured_layers import distinct_layers

    zoo = {f"{ZOO_MODEL} {key}": ((1, shape[2], shape[3], shape[1]), module.groups, module.c,
                                  module.kernel_size - module.n + 1, module.padding[0])
           for key, (module, shape, _) in distinct_layers([ZOO_MODEL]).items()
           if module.c < module.in_channels // module.groups}
    return {**zoo, **OFF_ZOO}


def box_sum(x, groups, c, window, pad):
    """The method's own sum-pool (frontend/layers/structured.py, PyTorch) in float64, channels-last."""
    import torch

    from sedge.frontend.layers.structured import sum_pool

    nchw = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2)
    return sum_pool(nchw, c, window, [pad, pad], [1, 1], groups).permute(0, 2, 3, 1).numpy()


def _module(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(kernel_module, geometry, data):
    """(timer, its arguments, max relative error) of `kernel_module`'s pool on `data`."""
    import tvm
    from tvm import te

    from sedge.tvm_passes.schedules.cpu import cpu_spec
    from sedge.tvm_passes.target import host_target
    from sedge.tvm_passes.tir_pipeline import register

    shape, groups, c, window, pad = geometry
    target = tvm.target.Target(host_target())
    lanes = cpu_spec(target).lanes  # as LowerStructuredConv builds the kernel for this host
    x, zeros = te.placeholder(shape, name="x"), te.placeholder((lanes,), name="zeros")
    y = kernel_module.sum_pool_nhwc(x, groups, c, window, (pad,) * 4, (1, 1), lanes, zeros=zeros)
    func = te.create_prim_func([x, zeros, y]).with_attr("global_symbol", "main")
    library = tvm.compile(tvm.IRModule({"main": func}), target=target, tir_pipeline=register())
    want = box_sum(data, groups, c, window, pad)
    args = [tvm.runtime.tensor(data), tvm.runtime.tensor(np.zeros(lanes, "float32")),
            tvm.runtime.tensor(np.zeros(want.shape, "float32"))]
    library["main"](*args)
    error = float(np.abs(args[2].numpy() - want).max() / np.abs(want).max())
    return library.mod.time_evaluator("main", tvm.cpu(), number=20, repeat=1), args, error


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="another sum_pool.py to time beside this one")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1, help="TVM threads (default 1: the kernel's own work)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    os.environ["TVM_NUM_THREADS"] = str(args.threads)
    from sedge.tvm_passes.kernels import sum_pool

    versions = {"this": sum_pool}
    if args.against:
        versions["against"] = _module(args.against, "sum_pool_against")
    print(f"| geometry | {' | '.join(f'{v} us' for v in versions)} |{' this / against |' if args.against else ''} "
          f"max rel err |\n|---|{'---|' * len(versions)}{'---|' if args.against else ''}---|")
    rows = []
    for name, geometry in geometries().items():
        data = np.random.default_rng(0).standard_normal(geometry[0]).astype("float32")
        built = {v: build(module, geometry, data) for v, module in versions.items()}
        times = {v: [] for v in built}
        for _ in range(args.rounds):
            for v, (timer, call_args, _) in built.items():
                times[v].append(timer(*call_args).mean * 1e6)
        us = {v: float(np.median(t)) for v, t in times.items()}
        error = max(e for _, _, e in built.values())
        ratio = f" {us['this'] / us['against']:.3f} |" if args.against else ""
        print(f"| {name} | {' | '.join(f'{us[v]:.2f}' for v in versions)} |{ratio} {error:.1e} |", flush=True)
        rows.append({"geometry": name, "us": us, "max_rel_error": error})
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
