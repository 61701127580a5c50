"""GFLOP/s of single conv kernels: resnet18's 3x3 convs against the building blocks that
compressed models leave behind (unpadded 2x2 convs of structured layers, grouped 1x1
convs of shuffle layers, depthwise and pointwise convs, an RGB stem), each beside ONNX
Runtime's kernel for the same conv.

    python -m benchmarks.kernels [--threads N] [--repeat 50] [-o benchmarks/results]

Each kernel is conv + bias + ReLU in channels-last, compiled through sedge's pipeline (so
it is the fused, scheduled kernel a model gets), checked against PyTorch, and timed with
TVM's time evaluator in rounds: each round times every kernel once (10 runs), and a
kernel's time is its median over the rounds. ONNX Runtime runs the same conv (NCHW model,
same weights, same thread count) in the same rounds, timed by its own profiler: the conv
node's time, without the ~15 us of Python and session overhead a wall clock would add to
each run (as long as the smallest kernels) and without the layout reorders ORT puts around
a lone conv (a model pays those once, at its edges). The memory-bound cap is the roofline's
memory side: the kernel's FLOP per byte moved (input, output and weights, each once) times
the bandwidth of the faster engine's memory-floor kernel, relative to the 3x3 rate: a
kernel cannot beat it unless its data stays nearer the core than the floor's did. Writes
kernels.json and kernels.md.

The table compares direct convolutions, so the WinogradConv rewrite is disabled for them;
resnet18's 3x3 convs are then measured again as the Winograd kernels a model gets, their
GFLOP/s counted as direct-convolution FLOPs per second (above the FMA peak: fewer multiplies).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# name: (H = W, in channels, out channels, kernel, stride, padding, groups)
KERNELS = {
    "resnet18 3x3 56x56x64": (56, 64, 64, 3, 1, 1, 1),
    "resnet18 3x3 28x28x128": (28, 128, 128, 3, 1, 1, 1),
    "resnet18 3x3 14x14x256": (14, 256, 256, 3, 1, 1, 1),
    "resnet18 3x3 7x7x512": (7, 512, 512, 3, 1, 1, 1),
    # Struct-ResNet-A's small convs (after the sum-pool, unpadded), one per resnet18 stage
    "structured 2x2 unpadded 57x57x64": (57, 64, 64, 2, 1, 0, 1),
    "structured 2x2 unpadded 29x29x128": (29, 128, 128, 2, 1, 0, 1),
    "structured 2x2 unpadded 15x15x256": (15, 256, 256, 2, 1, 0, 1),
    "structured 2x2 unpadded 8x8x512": (8, 512, 512, 2, 1, 0, 1),
    "shuffle grouped 1x1 56x56x64 g4": (56, 64, 64, 1, 1, 0, 4),
    "shuffle grouped 1x1 28x28x256 g8": (28, 256, 256, 1, 1, 0, 8),
    # wrn-28-10-shuffle-8's: 5 and 20 outputs per group, no multiple of the vector width
    "shuffle grouped 1x1 32x32 160->40 g8": (32, 160, 40, 1, 1, 0, 8),
    "shuffle grouped 1x1 32x32 40->160 g8": (32, 40, 160, 1, 1, 0, 8),
    "mobilenetv2 depthwise 3x3 56x56x144": (56, 144, 144, 3, 1, 1, 144),
    "mobilenetv2 pointwise 1x1 28x28x32->192": (28, 32, 192, 1, 1, 0, 1),
    "mobilenetv2 pointwise 1x1 56x56x144->24": (56, 144, 24, 1, 1, 0, 1),
    "mobilenetv2 stem 3x3 s2 224x224x3->32": (224, 3, 32, 3, 2, 1, 1),
    # one multiply per output: the time to read and write a 56x56x64 image, the floor
    # under any kernel of that shape (the g4 grouped 1x1 does 16 per output)
    "memory floor: depthwise 1x1 56x56x64": (56, 64, 64, 1, 1, 0, 64),
}
FLOOR = "memory floor: depthwise 1x1 56x56x64"


def _output_size(shape) -> int:
    size, _, _, kernel, stride, padding, _ = shape
    return (size + 2 * padding - kernel) // stride + 1


# the resnet18 3x3 convs and structured 2x2 convs that WinogradConv takes (an even output
# size: not the 7x7 stage)
WINOGRAD = {f"{name} Winograd": shape for name, shape in KERNELS.items()
            if name.startswith(("resnet18", "structured")) and _output_size(shape) % 2 == 0}
# each structured small conv's dense parent, the resnet18 conv of its stage, compared in the
# same form (direct or Winograd): what a structured layer saves where both run as models run them
PARENTS = {
    "structured 2x2 unpadded 57x57x64": "resnet18 3x3 56x56x64",
    "structured 2x2 unpadded 29x29x128": "resnet18 3x3 28x28x128",
    "structured 2x2 unpadded 15x15x256": "resnet18 3x3 14x14x256",
    "structured 2x2 unpadded 8x8x512": "resnet18 3x3 7x7x512",
}
PARENTS.update({f"{name} Winograd": f"{parent} Winograd" for name, parent in PARENTS.items()
                if f"{name} Winograd" in WINOGRAD})


def _products(name: str) -> float:
    """Multiplies per output pixel and channel pair of a kernel row as sedge runs it: k^2
    direct, (m + k - 1)^2 / m^2 as Winograd F(m x m, k x k) with the tile WinogradConv takes
    on this machine."""
    from sedge.tvm_passes.passes.winograd_conv import winograd_tile

    _, c_in, c_out, kernel, _, _, _ = shape = {**KERNELS, **WINOGRAD}[name]
    if name not in WINOGRAD:
        return kernel ** 2
    out = _output_size(shape)
    tile = winograd_tile(1, out, out, c_in, c_out, (kernel, kernel), 1, False, _host_l2_bytes())
    return (tile + kernel - 1) ** 2 / tile ** 2


@functools.cache
def _host_l2_bytes() -> int:
    import tvm

    from sedge.tvm_passes.schedules.cpu import cache_bytes
    from sedge.tvm_passes.target import host_target

    return cache_bytes(tvm.target.Target(host_target()))


def _module(size, c_in, c_out, kernel, stride, padding, groups):
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, size, size, c_in), "float32"))
    w = relax.Var("w", relax.TensorType((kernel, kernel, c_in // groups, c_out), "float32"))
    b = relax.Var("b", relax.TensorType((1, 1, 1, c_out), "float32"))
    with bb.function("main", [x, w, b], {"num_input": 1}):
        with bb.dataflow():
            y = relax.op.nn.conv2d(x, w, strides=stride, padding=padding, groups=groups, data_layout="NHWC",
                                   kernel_layout="HWIO")
            out = bb.emit_output(relax.op.nn.relu(relax.op.add(y, b)))
        bb.emit_func_output(out)
    return bb.get()


RUNS = 10  # runs per timed batch; a kernel's time is the median over rounds of a batch's mean


class _SedgeTimer:
    """One TVM time-evaluator batch per round."""

    def __init__(self, evaluate, args):
        self.evaluate, self.args, self.rounds = evaluate, args, []

    def run_round(self):
        self.rounds.append(float(self.evaluate(*self.args).results[0]))

    def seconds(self) -> list[float]:
        return self.rounds


def build_kernel(shape, x, w, b, winograd: bool = False):
    """Compile one kernel shape (NCHW input `x`, OIHW weights `w`, bias `b`) and check it
    against PyTorch: (timer, result)."""
    import torch
    import tvm
    from tvm import relax

    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.target import host_target
    from sedge.tvm_passes.tir_pipeline import register

    size, c_in, c_out, kernel, stride, padding, groups = shape
    target = tvm.target.Target(host_target())
    with tvm.transform.PassContext(opt_level=3, disabled_pass=[] if winograd else ["WinogradConv"]):
        executable = tvm.compile(sedge_pipeline(target)(_module(*shape)), target, relax_pipeline=None,
                                 tir_pipeline=register())
    vm = relax.VirtualMachine(executable, tvm.cpu())
    params = [tvm.runtime.tensor(a) for a in (w.transpose(2, 3, 1, 0).copy(), b.reshape(1, 1, 1, -1))]
    if vm.module.implements_function("main_transform_params"):  # weight packing, once, as at load time
        params = list(vm["main_transform_params"](params))
    args = [tvm.runtime.tensor(x.transpose(0, 2, 3, 1).copy()), *params]
    got = vm["main"](*args).numpy().transpose(0, 3, 1, 2)
    want = torch.relu(torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride, padding,
                                                 groups=groups)).numpy()
    timer = _SedgeTimer(vm.time_evaluator("main", tvm.cpu(), number=RUNS, repeat=1), args)
    moved = x.size + want.size + w.size + b.size  # fp32 values read or written once
    return timer, {"mflop": 2 * want.size * (c_in // groups) * kernel * kernel / 1e6, "mbyte": 4 * moved / 1e6,
                   "max_rel_error": float(np.max(np.abs(got - want)) / np.max(np.abs(want)))}


class _OrtTimer:
    """ONNX Runtime's Conv + Relu on the same shape and data, timed from its profile. The
    sessions share ORT's global thread pool (sized in `main`), as TVM's kernels share one:
    each session's own pool would leave its workers spinning through the next session's
    run (the 3x3 convs after the first one read 3-4x slower so)."""

    def __init__(self, shape, x, w, b, workdir: str):
        import onnxruntime
        from onnx import TensorProto, helper, numpy_helper

        _, _, _, kernel, stride, padding, groups = shape
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y"], group=groups, kernel_shape=[kernel] * 2,
                                  strides=[stride] * 2, pads=[padding] * 4),
                 helper.make_node("Relu", ["y"], ["z"])]
        graph = helper.make_graph(nodes, "kernel", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                                  [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                                  [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        options = onnxruntime.SessionOptions()
        options.use_per_session_threads = False
        options.enable_profiling, options.profile_file_prefix = True, str(Path(workdir) / "ort")
        self.session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                                    providers=["CPUExecutionProvider"])
        self.feed, self.rounds, self.untimed = {"x": x}, 0, 1
        self.session.run(None, self.feed)  # untimed: the first run allocates and re-lays the weights

    def run_round(self):
        for _ in range(RUNS):
            self.session.run(None, self.feed)
        self.rounds += 1

    def seconds(self) -> list[float]:
        """Per round, the mean over its runs of the conv's node time (every node but
        ORT's Reorder* layout conversions, one event per node per run)."""
        profile = Path(self.session.end_profiling())
        events = sorted((e for e in json.loads(profile.read_text()) if e.get("cat") == "Node"
                         and e["name"].endswith("_kernel_time")
                         and not e["args"].get("op_name", "").startswith("Reorder")), key=lambda e: e["ts"])
        profile.unlink()
        per_run = len(events) // (self.untimed + self.rounds * RUNS)
        micros = np.array([e["dur"] for e in events[self.untimed * per_run:]], dtype=np.float64)
        return list(micros.reshape(self.rounds, RUNS * per_run).sum(axis=1) / RUNS / 1e6)


def time_interleaved(engines: list[dict], rounds: int) -> list[dict]:
    """Per engine, {name: median seconds}: every kernel timed once per round, in turn, so
    that a slow spell of a shared machine falls on all kernels alike rather than on
    whichever one was running (the table's results are ratios between kernels). A pause
    between engines lets one engine's idle worker threads stop spinning before the other's
    run (see benchmarks.models)."""
    from benchmarks.models import SETTLE_SECONDS

    for _ in range(rounds):
        for timers in engines:
            time.sleep(SETTLE_SECONDS)
            for timer in timers.values():
                timer.run_round()
    return [{name: float(np.median(timer.seconds())) for name, timer in timers.items()} for timers in engines]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.kernels", description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=50,
                        help="rounds, each timing every kernel once over 10 runs (median over rounds)")
    parser.add_argument("-o", "--output", default="benchmarks/results", help="folder for kernels.json and kernels.md")
    args = parser.parse_args(argv)
    os.environ["TVM_NUM_THREADS"] = str(args.threads)  # read once, when TVM starts its thread pool
    os.environ.setdefault("TVM_BIND_THREADS", "0")  # unpinned, as in benchmarks.models
    import onnxruntime

    from benchmarks.models import machine
    from sedge.files import atomic_write

    onnxruntime.set_global_thread_pool_sizes(args.threads, 1)  # before any session exists
    sedge, ort, results = {}, {}, {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, shape in [*KERNELS.items(), *WINOGRAD.items()]:
            size, c_in, c_out, kernel, _, _, groups = shape
            rng = np.random.default_rng(0)
            x = rng.standard_normal((1, c_in, size, size), dtype=np.float32)
            w = rng.standard_normal((c_out, c_in // groups, kernel, kernel), dtype=np.float32)
            b = rng.standard_normal(c_out, dtype=np.float32)
            sedge[name], results[name] = build_kernel(shape, x, w, b, winograd=name in WINOGRAD)
            if name not in WINOGRAD:  # ORT's conv is the same for both rows
                ort[name] = _OrtTimer(shape, x, w, b, workdir)
        sedge_seconds, ort_seconds = time_interleaved([sedge, ort], args.repeat)
    for name, seconds in sedge_seconds.items():
        r = results[name]
        r.update(ms=seconds * 1e3, gflops=r["mflop"] / seconds / 1e3)
        if name in ort_seconds:
            r.update(ort_ms=ort_seconds[name] * 1e3, ort_gflops=r["mflop"] / ort_seconds[name] / 1e3)
        print(f"{name}: {r['ms']:.3f} ms, {r['gflops']:.1f} GFLOP/s", flush=True)

    def dense_3x3_mean(key):  # each engine's machine-rate reference
        return np.mean([r[key] for n, r in results.items() if n.startswith("resnet18") and n not in WINOGRAD])

    reference, ort_reference = dense_3x3_mean("gflops"), dense_3x3_mean("ort_gflops")
    # the roofline's memory side: the rate at which the faster engine's floor kernel moved
    # its bytes caps any kernel at its own FLOP per byte times that rate
    floor = results[FLOOR]
    gbyte_per_s = floor["mbyte"] / min(floor["ms"], floor["ort_ms"])  # MB per ms
    for r in results.values():
        r["memory_cap_gflops"] = r["mflop"] / r["mbyte"] * gbyte_per_s

    def ort_cells(r):
        if "ort_ms" not in r:
            return "- | - | -"
        return f"{r['ort_ms']:.3f} | {r['ort_gflops'] / ort_reference:.2f} | {r['ms'] / r['ort_ms']:.2f}x"

    for name, parent in PARENTS.items():  # a structured conv's time and multiplies over its parent's
        r, dense = results[name], results[parent]
        r.update(parent=parent, time_vs_parent=r["ms"] / dense["ms"], mflop_vs_parent=r["mflop"] / dense["mflop"],
                 products_vs_parent=_products(name) / _products(parent))

    def parent_cells(r):
        if "parent" not in r:
            return "- | -"
        return f"{r['time_vs_parent']:.2f} | {r['products_vs_parent']:.2f}"

    rows = [f"| {n} | {r['mflop']:.1f} | {r['ms']:.3f} | {r['gflops']:.1f} | {r['gflops'] / reference:.2f} | "
            f"{r['memory_cap_gflops'] / reference:.2f} | {ort_cells(r)} | {parent_cells(r)} | "
            f"{r['max_rel_error']:.1e} |" for n, r in results.items()]
    host = machine(args.threads)
    table = (f"# sedge conv kernels\n\nCPU: {host['cpu']} ({', '.join(host['cpu_flags'])}), {args.threads} threads; "
             f"{host['date']}; memory floor {gbyte_per_s:.0f} GB/s\n\n"
             "| kernel | MFLOP | median ms | GFLOP/s | vs resnet18 3x3 direct mean | memory-bound cap vs 3x3 "
             "| ORT median ms | ORT vs its 3x3 mean | sedge / ORT time | time / dense parent's | multiplies / parent's "
             "| max rel error |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    out = Path(args.output)
    atomic_write(out / "kernels.json", lambda tmp: Path(tmp).write_text(json.dumps(
        {"machine": host, "repeat": args.repeat, "memory_floor_gbyte_per_s": gbyte_per_s, "kernels": results},
        indent=1)))
    atomic_write(out / "kernels.md", lambda tmp: Path(tmp).write_text(table))
    print(table)
    return 0 if all(r["max_rel_error"] <= 1e-4 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
