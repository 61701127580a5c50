"""Each structured layer of the zoo's structured models, lowered every way it can be, timed.

    python -m benchmarks.structured_layers [MODEL ...] [--rounds 5] [--runs 20] [--pool] [--in-model RUNS]
                                           [--json FILE]

For every distinct structured conv (its geometry and input shape) of the models (default
the published structured ones), a one-layer model is compiled through sedge's pipeline
once per lowering option (`--lowering all=<option>`: fold, sumpool+conv, generic), its
input and output channels-last as inside a model, each build checked against PyTorch, and
the builds timed in interleaved rounds (one round times every option once, so that a slow
spell of a shared machine falls on all of them). The table shows, per layer, the cost
model's estimate and the measured time of each option, the option the model chooses, the
fastest measured, and whether the choice is within 10% of the fastest (issue 22's check).
`fold` is the dense conv of the same shape (alpha folded into the dense kernel at load
time), so the fold column is also the dense parent's layer.

A one-layer model re-reads an input that its last run left in the cache; inside a model
the input is the output of the kernel before. `--in-model RUNS` checks every layer whose
choice came out over 10% slower than the fastest option that way: the layer's first model,
compiled as chosen and with the layer forced to that option, is timed whole, RUNS runs of
each in turn, and the row gives forced / chosen: below 1 (median and 10th percentile) where
the option the layer alone favoured also makes its model faster. A layer is a few percent of
its model, so this tells which way the choice should go, not the layer's own ratio.

`--pool` adds, per layer with a sum-pool, the standalone add-only kernel (kernels/sum_pool.py)
against the memory floor: an elementwise kernel reading and writing the layer's input once
(x * 1, vectorised and parallel like every elementwise kernel), each as GB/s of the bytes it
must move (input read once, output written once), the pool's as a share of the floor's.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_MODELS = ("resnet18-struct-a", "mobilenetv2-struct-b", "mobilenetv2-struct-a")
WITHIN = 1.10  # the chosen option may be this much slower than the fastest measured


def distinct_layers(model_names) -> dict:
    """{key: (module, input shape, [(model name, position)])} of the structured convs the
    models run, each occurrence by its model and its place among the model's structured convs
    in the order they run."""
    import torch

    from sedge.frontend.layers.structured import StructuredConv2d
    from sedge.frontend.zoo import build

    layers = {}
    for name in model_names:
        model = build(name)
        seen = []
        hooks = [m.register_forward_hook(lambda m, args, _out: seen.append((m, tuple(args[0].shape))))
                 for m in model.modules() if isinstance(m, StructuredConv2d)]
        with torch.no_grad():
            model(torch.randn(*model.zoo_spec.input_shape))
        for hook in hooks:
            hook.remove()
        for position, (module, shape) in enumerate(seen):
            key = (f"{module.in_channels}->{module.out_channels} k{module.kernel_size} c{module.c} n{module.n} "
                   f"s{module.stride[0]} p{module.padding[0]} g{module.groups} {shape[2]}x{shape[3]}")
            layers.setdefault(key, (module, shape, []))[2].append((name, position))
    return layers


def channels_last(module):
    """`module` taking and giving channels-last tensors, as a layer inside a model does after
    the channels-last rewrite (the permutes cancel against the layer's own). With the NCHW
    input of a one-layer model, `fold`'s 1x1 conv read it in place while the sum-pool paid a
    transpose kernel: 40-56 us of 59-132 on mobilenetv2-struct-b's 14x14 and 28x28 1x1 layers,
    which no model runs."""
    import torch

    class ChannelsLast(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = module

        def forward(self, x):
            return self.layer(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)

    return ChannelsLast()


def build_options(module, shape, workdir: Path):
    """{option: (timer, max relative error)} and the cost model's Decision for one layer, fed
    and read channels-last (`channels_last`); `shape`: the layer's NCHW input."""
    import torch
    import tvm

    from benchmarks.forced_lowering import compile_forced
    from sedge.frontend.export import export_onnx
    from sedge.frontend.loaders import load_model
    from sedge.tvm_passes.lowering import decisions
    from sedge.tvm_passes.target import host_target

    batch, channels, height, width = shape
    x = torch.randn(batch, height, width, channels)
    module = channels_last(module)
    with torch.no_grad():
        want = module.eval()(x).numpy()
    model = load_model(export_onnx(module.eval(), x, str(workdir / "layer.onnx")))
    target = tvm.target.Target(host_target())
    decision = next(iter(decisions(model.mod, target).values()))
    built = {}
    for option in (o.name for o in decision.options):
        vm, args = compile_forced(model, {"all": option}, x.numpy(), target)
        got = vm["main"](*args).numpy()
        error = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
        built[option] = (vm.time_evaluator("main", tvm.cpu(), number=1, repeat=1), args, error)
    return built, decision


def time_rounds(built: dict, rounds: int, runs: int) -> dict:
    """{option: median ms}: per round every option `runs` times, in turn."""
    times = {option: [] for option in built}
    for _ in range(rounds):
        for option, (timer, args, _error) in built.items():
            timer(*args)  # warm the caches with this option's weights
            times[option].append(np.median([timer(*args).mean for _ in range(runs)]) * 1e3)
    return {option: float(np.median(t)) for option, t in times.items()}


def time_pool(module, shape, rounds: int, runs: int) -> dict:
    """The standalone sum-pool kernel of `module` on a channels-last input of NCHW `shape`,
    and the memory floor on the same input: {"pool_gbs", "floor_gbs", "pool_us"}."""
    import tvm
    from tvm import relax

    from sedge.tvm_passes.kernels.sum_pool import KERNEL_NAME, OPAQUE, pooled_size, scan_zeros, sum_pool_nhwc
    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.schedules.cpu import cpu_spec
    from sedge.tvm_passes.target import host_target
    from sedge.tvm_passes.tir_pipeline import register

    target = tvm.target.Target(host_target())
    batch, channels, height, width = shape
    nhwc = (batch, height, width, channels)
    window, pads = module.kernel_size - module.n + 1, [module.padding[0]] * 2 + [module.padding[1]] * 2
    dilation = list(module.dilation)

    def build(pool: bool):
        bb = relax.BlockBuilder()
        x = relax.Var("x", relax.TensorType(nhwc, "float32"))
        with bb.function("main", [x], {"num_input": 1}):
            with bb.dataflow():
                if pool:
                    lanes = cpu_spec(target).lanes
                    y = bb.emit(bb.call_te(sum_pool_nhwc, x, module.groups, module.c, window, pads, dilation, lanes,
                                           **scan_zeros(channels, module.groups, module.c, lanes),
                                           primfunc_name_hint=KERNEL_NAME,
                                           primfunc_attrs={"op_pattern": OPAQUE, "tirx.is_scheduled": True}))
                else:
                    y = bb.emit(relax.op.multiply(x, relax.const(1.0, "float32")))
                out = bb.emit_output(y)
            bb.emit_func_output(out)
        with tvm.transform.PassContext(opt_level=3):
            executable = tvm.compile(sedge_pipeline(target)(bb.get()), target, relax_pipeline=None,
                                     tir_pipeline=register())
        vm = relax.VirtualMachine(executable, tvm.cpu())
        return vm.time_evaluator("main", tvm.cpu(), number=1, repeat=1), [tvm.runtime.tensor(
            np.random.default_rng(0).standard_normal(nhwc, dtype=np.float32))]

    built = {"pool": (*build(True), 0.0), "floor": (*build(False), 0.0)}
    ms = time_rounds(built, rounds, runs)
    pooled = (batch * pooled_size(height, pads[0], pads[2], dilation[0], window)
              * pooled_size(width, pads[1], pads[3], dilation[1], window) * module.groups * module.c)
    in_bytes = 4 * batch * channels * height * width
    return {"pool_us": ms["pool"] * 1e3, "pool_gbs": (in_bytes + 4 * pooled) / ms["pool"] / 1e6,
            "floor_gbs": 2 * in_bytes / ms["floor"] / 1e6}


@functools.cache
def _as_chosen(name: str):
    """(model, its structured layers' Decisions in run order, an input, target, (vm, args) of
    the model compiled as the cost model chooses) of zoo model `name`: built once however many
    of its layers `time_in_model` checks."""
    import tvm

    from benchmarks.forced_lowering import compile_forced
    from sedge.frontend.loaders import load_model
    from sedge.tvm_passes.lowering import decisions
    from sedge.tvm_passes.target import host_target

    model = load_model(f"zoo:{name}")
    target = tvm.target.Target(host_target())
    layers = [d for d in decisions(model.mod, target).values() if d.op == "StructuredConv"]
    x = next(iter(model.example_inputs().values()))
    return model, layers, x, target, compile_forced(model, {}, x, target)


def time_in_model(occurrences, decision, fastest: str, repeat: int) -> dict:
    """The layer's first model, compiled as the cost model chooses and with the layer (every
    occurrence of it in that model) forced to the option the one-layer rounds found fastest,
    timed whole, in turn in this process: {"model", "ratio": median forced / chosen, "p10_ratio"}.
    A one-layer model re-reads an input its last run left in cache; inside a model the input
    is the output of the kernel before, which the layer's options may read at other speeds."""
    from benchmarks.forced_lowering import compile_forced
    from benchmarks.interleaved import time_in_turn

    name = occurrences[0][0]
    model, layers, x, target, chosen = _as_chosen(name)
    positions = [position for model_name, position in occurrences if model_name == name]
    for position in positions:  # the Relax layers run in the modules' order: the same costs
        if [o.macs for o in layers[position].options] != [o.macs for o in decision.options]:
            raise RuntimeError(f"{name}'s structured layer {position} is not the one measured alone")
    runs = {"chosen": chosen,
            "forced": compile_forced(model, {layers[p].layer: fastest for p in positions}, x, target)}
    samples = time_in_turn({k: (vm["main"], args) for k, (vm, args) in runs.items()}, repeat)
    median = {k: float(np.median(v)) for k, v in samples.items()}
    p10 = {k: float(np.percentile(v, 10)) for k, v in samples.items()}
    return {"model": name, "forced": fastest, "ratio": median["forced"] / median["chosen"],
            "p10_ratio": p10["forced"] / p10["chosen"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--pool", action="store_true", help="also time each standalone sum-pool against the "
                                                            "memory floor")
    parser.add_argument("--in-model", type=int, default=0, metavar="RUNS",
                        help="for a layer whose choice is over 10%% slower than the fastest option alone, time its "
                             "model whole with the layer as chosen and forced to that option, RUNS runs each")
    args = parser.parse_args(argv)
    rows = []
    print("| layer (in->out kernel c n stride pad groups HxW) | models | option | est us | measured us | "
          "max rel err |\n|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory(prefix="sedge-structured-") as tmp:
        for key, (module, shape, occurrences) in distinct_layers(args.models).items():
            models = [name for name, _ in occurrences]
            started = time.perf_counter()
            built, decision = build_options(module, shape, Path(tmp))
            measured = {o: ms * 1e3 for o, ms in time_rounds(built, args.rounds, args.runs).items()}
            fastest = min(measured, key=measured.get)
            ok = measured[decision.choice] <= WITHIN * measured[fastest]
            for option in decision.options:
                mark = "**" if option.name == decision.choice else ""
                print(f"| {key} | {len(models)}x {','.join(sorted(set(models)))} | {mark}{option.name}{mark} | "
                      f"{option.est_us:.1f} | {measured[option.name]:.1f} | {built[option.name][2]:.1e} |", flush=True)
            print(f"|  |  | chose {decision.choice}, fastest {fastest}: {'within' if ok else 'OUTSIDE'} 10% "
                  f"({time.perf_counter() - started:.0f} s) |  |  |  |", flush=True)
            row = {"layer": key, "models": models, "choice": decision.choice, "fastest": fastest,
                   "within_10pct": ok, "options": [o.as_dict() for o in decision.options],
                   "measured_us": measured, "errors": {o: built[o][2] for o in built}}
            if args.pool and "sumpool+conv" in measured:
                row["pool"] = pool = time_pool(module, shape, args.rounds, args.runs)
                print(f"|  |  | sum-pool alone {pool['pool_us']:.1f} us = {pool['pool_gbs']:.1f} GB/s, "
                      f"{pool['pool_gbs'] / pool['floor_gbs']:.0%} of the floor's {pool['floor_gbs']:.1f} GB/s; "
                      f"{pool['pool_us'] / measured['sumpool+conv']:.0%} of sumpool+conv |  |  |  |", flush=True)
            if args.in_model and not ok:
                row["in_model"] = whole = time_in_model(occurrences, decision, fastest, args.in_model)
                print(f"|  |  | in {whole['model']}, {fastest} forced / as chosen: {whole['ratio']:.3f} median, "
                      f"{whole['p10_ratio']:.3f} p10 |  |  |  |", flush=True)
            rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    within = sum(r["within_10pct"] for r in rows)
    print(f"\nchoice within 10% of the fastest on {within} of {len(rows)} distinct layers")
    checked = [r for r in rows if "in_model" in r]
    if checked:
        faster = sum(r["in_model"]["ratio"] < 1 and r["in_model"]["p10_ratio"] < 1 for r in checked)
        print(f"of the {len(checked)} others, forcing the option fastest alone made the model faster (median and "
              f"p10) for {faster}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
