"""One band-limited FFT conv per resnet56 / resnet18 layer shape, each lowering against the dense conv.

    python -m benchmarks.fft_conv [--rate 50] [--repeat 20] [--only resnet56] [--options project,fft,generic]
        [--batch 1] [-o benchmarks/results]
    python -m benchmarks.fft_conv --models resnet18-fft-50 resnet18 resnet56-fft-50 resnet56-fft-50:LowerFFTConv \
        resnet56 [--repeat 20]

Per layer shape (3x3, the zoo's compress rate, batch 1 unless --batch says otherwise: the
cost model prices the `fft` form's mixing by how many images fill its register tile): the dense conv of the same shape
(what the dense parent runs) and the BandLimitedConv2d compiled with each LowerFFTConv
lowering forced (`generic`: the pass off, the importer's body), all through sedge's whole
pipeline, checked against PyTorch's fft_conv_math (relative 1e-4), and timed with TVM's
time evaluator in interleaved rounds (each round times every build once, 10 runs; a
build's time is its median over the rounds). The cost model's choice and estimates
(tvm_passes/fft_cost.py) are printed beside. Writes fft_conv.json and fft_conv.md.

--models: zoo models (NAME, or NAME:PASS to compile with that pass disabled) compiled with
sedge.compile and timed in ONE process, interleaved in blocks of 5 runs (Executor.time),
each checked against the PyTorch zoo model: ratios without the between-process drift of a
shared machine, and without ONNX Runtime (whose session for resnet18-fft-50 outgrows a
23 GB machine).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

# name: (H = W, in channels, out channels, stride)
LAYERS = {
    "resnet56 32x32x16": (32, 16, 16, 1),
    "resnet56 32x32x16 s2 ->32": (32, 16, 32, 2),
    "resnet56 16x16x32": (16, 32, 32, 1),
    "resnet56 16x16x32 s2 ->64": (16, 32, 64, 2),
    "resnet56 8x8x64": (8, 64, 64, 1),
    "resnet18 56x56x64": (56, 64, 64, 1),
    "resnet18 56x56x64 s2 ->128": (56, 64, 128, 2),
    "resnet18 28x28x128": (28, 128, 128, 1),
    "resnet18 14x14x256": (14, 256, 256, 1),
    "resnet18 7x7x512": (7, 512, 512, 1),
}


def _build(mod, params, choice):
    import tvm
    from tvm import relax

    from sedge.tvm_passes.passes.fft_conv import fft_conv_lowering
    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.target import host_target
    from sedge.tvm_passes.tir_pipeline import register

    target = tvm.target.Target(host_target())
    if choice not in (None, "generic"):
        mod = fft_conv_lowering(target, choice)(mod)
    # generic: the pipeline's own LowerFFTConv off, so the construct keeps its body
    with tvm.transform.PassContext(opt_level=3, disabled_pass=["LowerFFTConv"] if choice == "generic" else []):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None, tir_pipeline=register())
    vm = relax.VirtualMachine(executable, tvm.cpu())
    weights = [tvm.runtime.tensor(p) for p in params]
    if vm.module.implements_function("main_transform_params"):
        weights = list(vm["main_transform_params"](weights))
    return vm, weights


def models(specs: list[str], repeat: int) -> int:
    import tempfile
    import time

    import torch

    import sedge
    from sedge.frontend.zoo import build
    from sedge.runtime.executor import Executor
    from sedge.tvm_passes.build import CompileOptions

    runs, tmp = {}, tempfile.mkdtemp()
    for spec in specs:
        name, _, off = spec.partition(":")
        start = time.time()
        package = sedge.compile(sedge.load(f"zoo:{name}"), CompileOptions(
            output=f"{tmp}/{spec.replace(':', '_')}.tar", disabled_passes=[off] if off else []))
        seconds = time.time() - start
        executor = Executor(package)
        spec0 = executor.metadata.inputs[0]
        x = np.random.default_rng(0).standard_normal(spec0.shape).astype("float32")
        got = executor.run({spec0.name: x})[0]
        with torch.no_grad():
            want = build(name)(torch.tensor(x)).numpy()
        err = float(np.abs(got - want).max() / np.abs(want).max())
        runs[spec] = (executor, {spec0.name: x}, seconds, err)
        print(f"{spec}: compiled in {seconds:.1f} s, max rel error vs PyTorch {err:.1e}", flush=True)
    times = {k: [] for k in runs}
    for _ in range(max(1, repeat // 5)):
        for k, (executor, inputs, _, _) in runs.items():
            time.sleep(0.3)  # idle worker threads of the previous engine stop spinning
            times[k] += list(executor.time(inputs, number=1, repeat=5).samples_ms)
    for k, v in times.items():
        print(f"{k}: median {np.median(v):.3f} ms over {len(v)} runs, compile {runs[k][2]:.1f} s, "
              f"max rel error {runs[k][3]:.1e}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--batch", type=int, default=1, help="images per inference")
    parser.add_argument("--repeat", type=int, default=20, help="rounds")
    parser.add_argument("--only", default="", help="layer names containing this")
    parser.add_argument("--options", default="project,fft,generic")
    parser.add_argument("-o", "--output", default="benchmarks/results")
    parser.add_argument("--models", nargs="+", help="zoo models (NAME or NAME:DISABLED_PASS) timed in one process")
    args = parser.parse_args(argv)
    if args.models:
        return models(args.models, args.repeat)

    import torch
    import tvm

    from sedge.frontend.export import export_onnx
    from sedge.frontend.layers.fft import BandLimitedConv2d, fft_geometry, rate_index
    from sedge.frontend.loaders import load_model
    from sedge.tvm_passes.fft_cost import fft_conv_choice, fft_conv_costs

    options = [o for o in args.options.split(",") if o]
    rows = []
    torch.manual_seed(0)
    for name, (size, c_in, c_out, stride) in LAYERS.items():
        if args.only not in name:
            continue
        x = torch.randn(args.batch, c_in, size, size)
        layer = BandLimitedConv2d(c_in, c_out, 3, stride, 1, compress_rate=args.rate).eval()
        dense = torch.nn.Conv2d(c_in, c_out, 3, stride, 1).eval()
        with torch.no_grad():
            want = layer(x).numpy()
        builds = {}
        with tempfile.TemporaryDirectory() as tmp:
            for label, module in [("dense", dense)] + [(o, layer) for o in options]:
                if label != "dense" and label in builds:
                    continue
                model = load_model(export_onnx(module, x, str(Path(tmp) / f"{label}.onnx")))
                params = model.params.values() if isinstance(model.params, dict) else model.params
                vm, weights = _build(model.mod, [np.asarray(p) for p in params],
                                     None if label == "dense" else label)
                inputs = [tvm.runtime.tensor(x.numpy())] + weights
                if label != "dense":
                    got = vm["main"](*inputs).numpy()
                    err = float(np.linalg.norm(got - want) / np.linalg.norm(want))
                    if err > 1e-4:
                        raise SystemExit(f"{name} {label}: relative error {err:.2e}")
                builds[label] = (vm.time_evaluator("main", tvm.cpu(), number=10, repeat=1), inputs)
        times = {k: [] for k in builds}
        for _ in range(args.repeat):
            for label, (evaluate, inputs) in builds.items():
                times[label].append(evaluate(*inputs).mean * 1e3)
        medians = {k: float(np.median(v)) for k, v in times.items()}
        hf, wf = fft_geometry(size, size, 3, 1)
        index = rate_index(wf, args.rate) if args.rate > 0 else -1
        choice = fft_conv_choice(args.batch, c_in, c_out, size, size, 3, stride, 1, index)[0]
        costs = fft_conv_costs(args.batch, c_in, c_out, size, size, 3, stride, 1, index)
        rows.append({"layer": name, "batch": args.batch, "fft_shape": [hf, wf], "index": index, "ms": medians,
                     "choice": choice,
                     "est_ms": {k: v[3] / 1e6 for k, v in costs.items()}})
        cells = "  ".join(f"{k} {v:.4f} ms ({v / medians['dense']:.2f}x)" for k, v in medians.items())
        estimates = "  ".join(f"{k} {v[3] / 1e6:.4f}" for k, v in costs.items() if k in options)
        print(f"{name:30s} Hf={hf} idx={index}  {cells}  model: {choice} (est ms: {estimates})", flush=True)

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fft_conv.json").write_text(json.dumps(rows, indent=1))
    header = ["layer", "Hf", "idx", "dense (ms)"] + [f"{o} (ms)" for o in options] + \
        [f"{o} / dense" for o in options] + ["model's choice"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        ms = r["ms"]
        lines.append("| " + " | ".join([r["layer"], str(r["fft_shape"][0]), str(r["index"]), f"{ms['dense']:.4f}"]
                                       + [f"{ms[o]:.4f}" for o in options]
                                       + [f"{ms[o] / ms['dense']:.2f}x" for o in options] + [r["choice"]]) + " |")
    (out / "fft_conv.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TVM_NUM_THREADS", "2")
    sys.exit(main())
