"""One band-limited FFT conv per resnet56 / resnet18 layer shape, each lowering against the dense conv.

    python -m benchmarks.fft_conv [--rate 50] [--repeat 20] [--only resnet56] [--options project,fft,generic]
        [-o benchmarks/results]

Per layer shape (batch 1, 3x3, the zoo's compress rate): the dense conv of the same shape
(what the dense parent runs) and the BandLimitedConv2d compiled with each LowerFFTConv
lowering forced (`generic`: the pass off, the importer's body), all through sedge's whole
pipeline, checked against PyTorch's fft_conv_math (relative 1e-4), and timed with TVM's
time evaluator in interleaved rounds (each round times every build once, 10 runs; a
build's time is its median over the rounds). The cost model's choice and estimates
(tvm_passes/fft_cost.py) are printed beside. Writes fft_conv.json and fft_conv.md.
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

    target = tvm.target.Target(host_target())
    if choice not in (None, "generic"):
        mod = fft_conv_lowering(target, choice)(mod)
    with tvm.transform.PassContext(opt_level=3):
        executable = tvm.compile(sedge_pipeline(target)(mod), target, relax_pipeline=None)
    vm = relax.VirtualMachine(executable, tvm.cpu())
    weights = [tvm.runtime.tensor(p) for p in params]
    if vm.module.implements_function("main_transform_params"):
        weights = list(vm["main_transform_params"](weights))
    return vm, weights


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--repeat", type=int, default=20, help="rounds")
    parser.add_argument("--only", default="", help="layer names containing this")
    parser.add_argument("--options", default="project,fft,generic")
    parser.add_argument("-o", "--output", default="benchmarks/results")
    args = parser.parse_args(argv)

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
        x = torch.randn(1, c_in, size, size)
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
        choice = fft_conv_choice(1, c_in, c_out, size, size, 3, stride, 1, index)[0]
        costs = fft_conv_costs(1, c_in, c_out, size, size, 3, stride, 1, index)
        rows.append({"layer": name, "fft_shape": [hf, wf], "index": index, "ms": medians, "choice": choice,
                     "est_ms": {k: v[3] / 1e6 for k, v in costs.items()}})
        cells = "  ".join(f"{k} {v:.4f} ms ({v / medians['dense']:.2f}x)" for k, v in medians.items())
        print(f"{name:30s} Hf={hf} idx={index}  {cells}  model: {choice}", flush=True)

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
