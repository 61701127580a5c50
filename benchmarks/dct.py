"""sedge's fast DCT against torch.fft and scipy, and one ACDC layer three ways (issue 23).

    python -m benchmarks.dct [--sizes 64 256 1024 4096] [--layer-sizes 256 1024 2048 4096]
        [--batches 1 64] [--factors 12] [--threads N] [--rounds 5] [--json FILE]

1. The orthonormal DCT-II of `batch` vectors of length N, in benchFFT GFLOP/s (a real
   transform counts 2.5 N log2 N flops per vector, whatever it really does; anchors.md):
   - sedge: the kernel the `factored` ACDC lowering runs (tvm_passes/kernels/dct_batched.py:
     Makhoul's reordering + a real FFT of N/2 points in radix-8 Stockham passes, blocks of
     vectors across the SIMD lanes, one transform per lane), compiled alone for this host, on
     its own layout (N, batch);
   - torch: Makhoul's reordering + `torch.fft.rfft` (MKL on x86 wheels) + the twiddle, on
     (batch, N); and `torch.fft.rfft` alone (the issue's peer: a DCT cannot beat the FFT it
     is built on);
   - scipy: `scipy.fft.dct(type=2, norm="ortho")` (pocketfft) on (batch, N); where scipy is
     missing, numpy's pocketfft through Makhoul's reordering + `numpy.fft.rfft`.
   Each checked against the others (relative error).
2. One ACDC layer (`factors` factors, length N) on `batch` vectors, in ms: sedge with the
   layer forced `factored` and forced `fold` (`--lowering all=...`, each compiled through the
   whole pipeline), and PyTorch's dense matmul of the multiplied-out matrix (x @ W + b), with
   the choice sedge's cost model makes. Both sedge builds are checked against PyTorch.

All engines use the same thread count; every measurement is the median over `rounds`
rounds, each round timing every engine of a row in turn (so that a slow spell of a shared
machine falls on all of them) after letting the previous engine's worker threads settle,
each timing the mean of enough runs to last ~2 ms.
"""
from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SECONDS = 2e-3  # each timing averages enough runs to last this long
# TVM's and OpenMP's idle workers spin ~300k yields before sleeping: let one engine's
# workers settle before the next engine's turn, or they steal its cores (benchmarks.models)
SETTLE_SECONDS = 0.3


def flops(N: int, batch: int) -> float:
    """benchFFT's count for a real transform: 2.5 N log2 N per vector."""
    return 2.5 * N * math.log2(N) * batch


def _timer(fn):
    """A function of no arguments returning the mean seconds of enough calls of `fn`."""
    fn()
    started = time.perf_counter()
    fn()
    once = max(time.perf_counter() - started, 1e-7)
    number = max(1, int(TARGET_SECONDS / once))

    def timed():
        started = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - started) / number

    return timed


def _rounds(timers: dict, rounds: int) -> dict:
    """{name: median seconds}: per round every timer once, in turn."""
    times = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            time.sleep(SETTLE_SECONDS)
            timer()  # warm: this engine's data back in the caches
            times[name].append(timer())
    return {name: float(np.median(t)) for name, t in times.items()}


# ---- 1. the DCT-II ----

def sedge_dct(N: int, batch: int):
    """(call, output) of sedge's DCT-II kernel on x (N, batch), built for this host."""
    import tvm
    from tvm import te

    from sedge.tvm_passes.kernels import dct as K
    from sedge.tvm_passes.kernels import dct_batched as KB
    from sedge.tvm_passes.schedules.cpu import cpu_spec
    from sedge.tvm_passes.target import host_target
    from sedge.tvm_passes.tir_pipeline import register

    target = tvm.target.Target(host_target())
    lanes = cpu_spec(target).lanes
    x = te.placeholder((N, batch), "float32", "x")
    if N >= KB.MIN_N:  # the kernel the factored lowering runs from N = 8 on
        tables = KB.tables(N)
        tw, phase = (te.placeholder(t.shape, "float32", n) for t, n in zip(tables, ("w", "phase")))
        func = te.create_prim_func([x, tw, phase, KB.dct2_extern(x, N, batch, lanes, tw, phase)])
    else:
        tables = [K.twiddles(N, -1), K.makhoul_phases(N)]
        tw, phase = (te.placeholder(t.shape, "float32", n) for t, n in zip(tables, ("tw", "phase")))
        sch = tvm.s_tir.Schedule(te.create_prim_func([x, tw, phase, K.dct2(x, tw, phase, N, batch)]))
        K.schedule_dct(sch, lanes)
        func = sch.mod["main"]
    lib = tvm.compile(tvm.IRModule({"main": func.with_attr("tirx.is_scheduled", True)}), target=target,
                      tir_pipeline=register())
    fn = lib["main"]

    def make(xs: np.ndarray):
        args = [tvm.runtime.tensor(np.ascontiguousarray(xs.T))] + [tvm.runtime.tensor(t) for t in tables]
        out = tvm.runtime.tensor(np.zeros((N, batch), np.float32))
        return (lambda: fn(*args, out)), (lambda: out.numpy().T)

    return make


@functools.lru_cache(maxsize=32)
def _makhoul_twiddle(N: int):
    """(re, im) of f_k exp(-i pi k / 2N), f_0 = sqrt(1/N), f_k = sqrt(2/N): scipy's norm='ortho'."""
    import torch

    k = torch.arange(N, dtype=torch.float64)
    scale = torch.full((N,), math.sqrt(2 / N), dtype=torch.float64)
    scale[0] = math.sqrt(1 / N)
    angle = -math.pi * k / (2 * N)
    return (torch.cos(angle) * scale).float(), (torch.sin(angle) * scale).float()


def torch_dct(x):
    """Orthonormal DCT-II of the rows of x by Makhoul: reorder, real FFT, twiddle."""
    import torch

    N = x.shape[-1]
    wr, wi = _makhoul_twiddle(N)
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], -1)
    half = torch.fft.rfft(v, dim=-1)  # V[0 .. N/2]; V[k] = conj(V[N-k]) above
    re, im = half.real, half.imag
    full_re = torch.cat([re, re[..., 1:N // 2].flip(-1)], -1)
    full_im = torch.cat([im, -im[..., 1:N // 2].flip(-1)], -1)
    return full_re * wr.to(x.dtype) - full_im * wi.to(x.dtype)


def numpy_dct(x: np.ndarray) -> np.ndarray:
    """The same through numpy's pocketfft (where scipy is missing)."""
    N = x.shape[-1]
    v = np.concatenate([x[..., ::2], x[..., 1::2][..., ::-1]], -1)
    half = np.fft.rfft(v, axis=-1)
    full = np.concatenate([half, np.conj(half[..., 1:N - N // 2][..., ::-1])], -1)
    k = np.arange(N)
    scale = np.full(N, math.sqrt(2 / N))
    scale[0] = math.sqrt(1 / N)
    return ((full * np.exp(-1j * np.pi * k / (2 * N))).real * scale).astype(np.float32)


def library_dct(threads: int):
    """(name, function of a (batch, N) array) of the pocketfft DCT-II."""
    try:
        import scipy.fft

        return "scipy", lambda x: scipy.fft.dct(x, type=2, norm="ortho", axis=-1, workers=threads)
    except ImportError:
        return "numpy", numpy_dct


def dct_row(N: int, batch: int, rounds: int, threads: int) -> dict:
    import torch

    x = np.random.default_rng(N + batch).standard_normal((batch, N)).astype(np.float32)
    sedge_run, sedge_out = sedge_dct(N, batch)(x)
    xt = torch.from_numpy(x)
    lib_name, lib = library_dct(threads)
    with torch.inference_mode():
        reference = torch_dct(xt.double()).numpy()
        errors = {"sedge": _rel(sedge_run_output(sedge_run, sedge_out), reference),
                  "torch": _rel(torch_dct(xt).numpy(), reference), lib_name: _rel(lib(x), reference)}
        seconds = _rounds({"sedge": _timer(sedge_run), "torch": _timer(lambda: torch_dct(xt)),
                           "torch rfft": _timer(lambda: torch.fft.rfft(xt, dim=-1)),
                           lib_name: _timer(lambda: lib(x))}, rounds)
    return {"N": N, "batch": batch, "library": lib_name,
            "gflops": {name: flops(N, batch) / s / 1e9 for name, s in seconds.items()},
            "us": {name: s * 1e6 for name, s in seconds.items()}, "errors": errors}


def sedge_run_output(run, out):
    run()
    return out()


def _rel(got, want) -> float:
    return float(np.max(np.abs(got - want)) / np.max(np.abs(want)))


# ---- 2. one ACDC layer ----

def acdc_row(N: int, batch: int, factors: int, rounds: int, workdir: Path) -> dict:
    import torch
    import tvm

    from benchmarks.forced_lowering import compile_forced
    from sedge.frontend.export import export_onnx
    from sedge.frontend.layers.acdc import ACDC
    from sedge.frontend.loaders import load_model
    from sedge.tvm_passes.lowering import decisions
    from sedge.tvm_passes.target import host_target

    torch.manual_seed(N)
    layer = ACDC(N, factors, bias=True).eval()
    x = torch.randn(batch, N)
    with torch.inference_mode():
        want = layer(x).numpy()
        W, b = (t.float() for t in layer.dense())  # x @ W + b, the multiplied-out stack
    target = tvm.target.Target(host_target())
    model = load_model(export_onnx(layer, x, str(workdir / f"acdc{N}x{batch}.onnx")))
    decision = next(iter(decisions(model.mod, target).values()))
    timers, errors, compile_s = {}, {}, {}
    for option in ("factored", "fold"):
        started = time.perf_counter()
        vm, args = compile_forced(model, {"all": option}, x.numpy(), target)  # the fold runs at load, in there
        compile_s[option] = time.perf_counter() - started
        errors[option] = _rel(vm["main"](*args).numpy(), want)
        main = vm["main"]
        timers[f"sedge {option}"] = _timer(lambda main=main, args=args: main(*args))
    with torch.inference_mode():
        timers["torch dense"] = _timer(lambda: torch.addmm(b, x, W))
        seconds = _rounds(timers, rounds)
    estimates = {o.name: o.est_us / 1e3 for o in decision.options}
    return {"N": N, "batch": batch, "factors": factors, "ms": {k: s * 1e3 for k, s in seconds.items()},
            "choice": decision.choice, "estimate_ms": estimates, "errors": errors, "compile_s": compile_s}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 256, 1024, 4096])
    parser.add_argument("--layer-sizes", type=int, nargs="*", default=[256, 1024, 2048, 4096])
    parser.add_argument("--batches", type=int, nargs="*", default=[1, 64])
    parser.add_argument("--factors", type=int, default=12)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    os.environ.setdefault("TVM_NUM_THREADS", str(args.threads))
    result = {"dct": [], "acdc": []}
    print("## DCT-II, benchFFT GFLOP/s (2.5 N log2 N x batch / time)\n")
    print("| N | batch | sedge DCT | torch DCT (Makhoul + rfft) | torch.fft.rfft alone | pocketfft DCT | "
          "sedge / torch DCT | sedge / torch rfft | max rel err sedge |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for N in args.sizes:
        for batch in args.batches:
            row = dct_row(N, batch, args.rounds, args.threads)
            g, lib = row["gflops"], row["library"]
            print(f"| {N} | {batch} | {g['sedge']:.2f} | {g['torch']:.2f} | {g['torch rfft']:.2f} | "
                  f"{g[lib]:.2f} ({lib}) | {g['sedge'] / g['torch']:.2f}x | {g['sedge'] / g['torch rfft']:.2f}x | "
                  f"{row['errors']['sedge']:.1e} |", flush=True)
            result["dct"].append(row)
    print(f"\n## One ACDC layer, {args.factors} factors, ms\n")
    print("| N | batch | sedge factored | sedge fold | PyTorch dense | sedge chooses | est. factored / fold (ms) "
          "| max rel err (factored, fold) |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="sedge-dct-") as tmp:
        for N in args.layer_sizes:
            for batch in args.batches:
                row = acdc_row(N, batch, args.factors, args.rounds, Path(tmp))
                ms, est, err = row["ms"], row["estimate_ms"], row["errors"]
                fastest = "factored" if ms["sedge factored"] < ms["sedge fold"] else "fold"
                mark = "" if fastest == row["choice"] else " (fastest: " + fastest + ")"
                print(f"| {N} | {batch} | {ms['sedge factored']:.3f} | {ms['sedge fold']:.3f} | "
                      f"{ms['torch dense']:.3f} | {row['choice']}{mark} | {est['factored']:.3f} / {est['fold']:.3f} "
                      f"| {err['factored']:.1e}, {err['fold']:.1e} |", flush=True)
                result["acdc"].append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
