"""sedge against ONNX Runtime and PyTorch, per model, in one process per model and one run.

    python -m benchmarks.models resnet18 mobilenetv2 resnet56 [more zoo names, tv:NAME[:STYLE] or .onnx files]
        [--device cpu|cuda] [--threads N] [--repeat 30] [--warmup 5] [--from-pytorch]
        [-o benchmarks/results]

Each model is exported once to ONNX; sedge compiles that file and ONNX Runtime runs it
(with --from-pytorch, sedge compiles a zoo model from its PyTorch program instead, as
`sedge compile zoo:NAME` does: the exporter's batch-norm folding is then sedge's own);
PyTorch runs the zoo model eagerly (channels-last, inference mode; not for bare .onnx
files). All engines use the same pinned thread count and the same input, warm up, then
run in interleaved blocks of BLOCK runs (sedge, ORT, PyTorch, sedge, ...), so that load
from other processes hits them alike while one engine's spinning worker threads do not
steal the cores of the next; latencies are medians. sedge's output is checked against ONNX
Runtime (relative tolerance 1e-4) and its per-kernel profile names the dominant kernel.
Ratios are to the peer: ONNX Runtime where it runs on the benchmarked device, else PyTorch;
a compressed zoo model whose dense parent is in the same run also gets sedge's ratio to
sedge's dense parent (resnet18-struct-a to resnet18), the first peer of a compressed model.
Each model runs in a process of its own (all its engines in that one process, so its ratios
are still taken in one process): a model whose process dies (ONNX Runtime's session for
resnet18-fft-50 outgrows a 23 GB machine, and the kernel's out-of-memory killer ends it)
costs its own row, not the run. A model that fails (a file sedge refuses, an internal
error, a killed process) gets a row saying why, and the run goes on to the next model; the
exit code is then the first failure's (1 for an internal error or a killed process).
With --device cuda, sedge compiles for the GPU found here (`--target cuda` reads its arch)
and PyTorch runs on it (TF32 off, so both compute in fp32; cuDNN picks its fastest kernels);
every engine takes its input from host memory and returns its output there, as sedge's
executor does. ONNX Runtime runs there only with its CUDA provider installed; otherwise it
is the CPU reference the outputs are checked against, untimed.
Writes <output>/models.json and <output>/models.md after every model (a run stopped midway
keeps the rows it finished) and prints the table.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_MODELS = ("resnet18", "mobilenetv2", "resnet56")
RTOL = 1e-4
BLOCK = 5  # consecutive timed runs of one engine before the next engine's turn
SETTLE_SECONDS = 0.3  # TVM's and OpenMP's idle workers spin ~300k yields before sleeping
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
             "amx_tile", "asimd", "sve")


# "sedge-fp16": the same model compiled with --mixed-precision (float16, float32 accumulation),
# an engine only with the harness's --mixed-precision
ENGINE_NAMES = {"sedge": "sedge", "sedge-fp16": "sedge fp16", "onnxruntime": "ONNX Runtime", "pytorch": "PyTorch"}
SHORT_NAMES = {"sedge": "sedge", "sedge-fp16": "sedge fp16", "onnxruntime": "ORT", "pytorch": "PyTorch"}
FP16_RTOL = 1e-2  # float16 keeps 11 bits: the tolerance `sedge run --verify` uses for such packages


@dataclass
class ModelResult:
    model: str
    sedge_source: str  # what sedge compiled: "onnx" (the export ORT runs) or "pytorch"
    peer: str  # the engine the ratios are taken to: "onnxruntime", or "pytorch" where ORT has no GPU
    latency_ms: dict  # engine -> median ms over `repeat` runs
    compile_seconds: float
    max_rel_error: float | None  # None when it did not run
    verified: bool
    top_kernels: list = field(default_factory=list)  # [{name, percent, duration_us, shapes}], largest first
    error: str | None = None  # why the model did not run (one line); its other fields are then empty
    fp16_max_rel_error: float | None = None  # the sedge-fp16 engine's, against the same reference
    # the compile's CPU time (this process, all threads): on a shared machine the wall clock
    # counts other processes' turns too, the CPU time only the compiler's work
    compile_cpu_seconds: float | None = None

    @classmethod
    def failed(cls, model: str, error: str) -> ModelResult:
        return cls(model=model, sedge_source="-", peer="-", latency_ms={}, compile_seconds=0.0,
                   max_rel_error=None, verified=False, error=error)

    def ratio(self, engine: str, peer: str) -> float | None:
        base, value = self.latency_ms.get(peer), self.latency_ms.get(engine)
        return value / base if base and value else None


def machine(threads: int, device: str = "cpu") -> dict:
    """Where the numbers come from: CPU, its vector flags, GPU, library versions, threads."""
    from importlib.metadata import version

    from sedge.host import this_host

    host = this_host()
    versions = {}
    for dist in ("sedge", "apache-tvm", "onnxruntime", "torch", "numpy", "onnx"):
        try:
            versions[dist] = version(dist)
        except Exception:  # not installed: the table says so rather than failing
            versions[dist] = "absent"
    from sedge.tvm_passes.target import host_target

    return {"cpu": host.cpu_name, "cpu_flags": sorted(f for f in CPU_FLAGS if f in host.flags),
            "logical_cpus": host.logical_cpus, "physical_cores": host.physical_cores,
            "l2_bytes_per_core": host.cache_share_bytes("L2"), "threads": threads, "platform": platform.platform(),
            "python": platform.python_version(), "versions": versions, "target": host_target(),
            "device": device, "gpu": _gpu() if device == "cuda" else None,
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def _gpu() -> str:
    import tvm

    from sedge.errors import SedgeError

    gpu = tvm.cuda(0)
    if not gpu.exist:
        raise SedgeError("--device cuda, but there is no CUDA device on this machine")
    return f"{gpu.device_name} (sm_{gpu.compute_version.replace('.', '')})"


TV_STYLES = ("torchscript", "dynamo", "initializers")


def _torchvision(name: str, workdir: Path):
    """(ONNX path, module) for `tv:NAME[:STYLE]`: torchvision's architecture with random weights
    at 1x3x224x224, exported in STYLE (torchscript, dynamo or initializers; default torchscript)."""
    import torch

    from sedge.errors import SedgeError
    from sedge.frontend.loaders import tv_models
    from sedge.frontend.onnx_export_styles import export

    _, model_name, *style = name.split(":")
    style = style[0] if style else "torchscript"
    if style not in TV_STYLES:
        raise SedgeError(f"unknown export style '{style}' in '{name}'; styles: {', '.join(TV_STYLES)}")
    module = tv_models.build(model_name)
    path = workdir / f"tv_{model_name}_{style}.onnx"
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    try:
        export(module, x, str(path), style)
    except Exception as err:  # the exporter's own refusal, one line, as a row of the table
        raise SedgeError(f"torch could not export {model_name} ({style}): {str(err).strip().splitlines()[0]}") from None
    return path, module


def _prepare(name: str, workdir: Path):
    """(ONNX path, PyTorch module or None, input name, input array) for a zoo name, a
    torchvision name (tv:NAME[:STYLE]) or an .onnx file."""
    from sedge.errors import SedgeError
    from sedge.frontend.loaders.onnx import read_onnx

    if name.endswith(".onnx"):
        if not Path(name).is_file():
            raise SedgeError(f"model file '{name}' does not exist")
        path, module = Path(name), None
    elif name.startswith("tv:"):
        path, module = _torchvision(name, workdir)
    else:
        from sedge.frontend.export import export_zoo_model
        from sedge.frontend.zoo import build

        zoo_name = name.removeprefix("zoo:")
        path = workdir / f"{zoo_name}.onnx"
        export_zoo_model(zoo_name, str(path))
        module = build(zoo_name)
    graph = read_onnx(str(path)).graph  # a file that is no ONNX model is refused here, as sedge refuses it
    initializers = {i.name for i in graph.initializer}
    (first,) = [i for i in graph.input if i.name not in initializers][:1]
    shape = [d.dim_value for d in first.type.tensor_type.shape.dim]
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    return path, module, first.name, x


def _engines(path: Path, module, input_name: str, x: np.ndarray, threads: int, sedge_model: str, device: str,
             mixed_precision: bool = False):
    """name -> zero-argument callable running one inference on `device` (the timed engines),
    the peer the ratios are taken to, sedge's compile time, wall and CPU (of `sedge_model`,
    the export or `zoo:NAME`), its executor and feed, and the ONNX Runtime session that is the reference."""
    # TVM, its ONNX frontend and sedge's converters load once per process (3-9 s here),
    # before the clock: the compile column times the model's import and build
    import onnxruntime
    import tvm.relax.frontend.onnx  # noqa: F401

    import sedge
    import sedge.api  # noqa: F401
    import sedge.frontend.importers  # noqa: F401
    from sedge.runtime.executor import Executor

    started, cpu_started = time.perf_counter(), time.process_time()
    package = sedge.compile(sedge.load(sedge_model), sedge.CompileOptions(
        target="cuda" if device == "cuda" else None, output=str(path.with_suffix(".tar"))))
    compile_seconds = time.perf_counter() - started
    compile_cpu_seconds = time.process_time() - cpu_started
    executor = Executor(package, device)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    ort_on_device = device == "cpu" or "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    provider = "CUDAExecutionProvider" if device == "cuda" and ort_on_device else "CPUExecutionProvider"
    session = onnxruntime.InferenceSession(str(path), options, providers=[provider])
    feed = {executor.metadata.inputs[0].name: x}  # the PyTorch program may name its input unlike the export
    engines = {"sedge": lambda: executor.run(feed)}
    if mixed_precision:
        fp16 = Executor(sedge.compile(sedge.load(sedge_model), sedge.CompileOptions(
            target="cuda" if device == "cuda" else None, output=str(path.with_suffix(".fp16.tar")),
            mixed_precision=True)), device)
        engines["sedge-fp16"] = lambda: fp16.run(feed)
    if ort_on_device:
        engines["onnxruntime"] = lambda: session.run(None, {input_name: x})
    if module is not None:
        engines["pytorch"] = _torch_engine(module, x, threads, device)
    peer = "onnxruntime" if ort_on_device else "pytorch"
    return engines, peer, (compile_seconds, compile_cpu_seconds), executor, feed, session


def _torch_engine(module, x: np.ndarray, threads: int, device: str):
    """PyTorch eager, channels-last, inference mode; on a GPU it copies the input there and the
    output back on every call, as sedge's executor does."""
    import torch

    torch.set_num_threads(threads)
    module = module.to(memory_format=torch.channels_last)
    if device == "cpu":
        tx = torch.from_numpy(x).contiguous(memory_format=torch.channels_last)

        def run_on_cpu():
            with torch.inference_mode():
                return module(tx)

        return run_on_cpu
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as sedge computes
    torch.backends.cudnn.benchmark = True
    module = module.to(device)

    def run_on_gpu():
        with torch.inference_mode():
            tx = torch.from_numpy(x).to(device).contiguous(memory_format=torch.channels_last)
            return module(tx).cpu()

    return run_on_gpu


def _rel_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got.astype(np.float64) - want)) / max(float(np.max(np.abs(want))), 1e-30))


def bench_model(name: str, repeat: int, warmup: int, threads: int, workdir: Path,
                from_pytorch: bool = False, device: str = "cpu", mixed_precision: bool = False) -> ModelResult:
    from sedge.runtime.profiler import profile

    path, module, input_name, x = _prepare(name, workdir)
    # a bare .onnx file has no PyTorch program; a torchvision model none sedge loads
    from_pytorch = from_pytorch and module is not None and not name.startswith("tv:")
    sedge_model = f"zoo:{name.removeprefix('zoo:')}" if from_pytorch else str(path)
    engines, peer, (compile_seconds, compile_cpu), executor, feed, reference = _engines(
        path, module, input_name, x, threads, sedge_model, device, mixed_precision)
    want = reference.run(None, {input_name: x})[0]
    rel_error = _rel_error(engines["sedge"]()[0], want)
    fp16_error = _rel_error(engines["sedge-fp16"]()[0], want) if mixed_precision else None
    for _ in range(warmup):
        for run in engines.values():
            run()
    samples = {engine: [] for engine in engines}
    while len(samples["sedge"]) < repeat:  # interleaved blocks: load elsewhere slows every engine alike
        for engine, run in engines.items():
            time.sleep(SETTLE_SECONDS)  # the previous engine's idle worker threads spin before they sleep
            run()  # untimed: caches and this engine's threads warm again
            for _ in range(min(BLOCK, repeat - len(samples[engine]))):
                started = time.perf_counter()
                run()
                samples[engine].append((time.perf_counter() - started) * 1e3)
    rows = profile(executor, feed, runs=repeat)[:5]
    return ModelResult(
        model=name, sedge_source="pytorch" if from_pytorch else "onnx", peer=peer,
        latency_ms={e: float(np.median(s)) for e, s in samples.items()},
        compile_seconds=round(compile_seconds, 2), compile_cpu_seconds=round(compile_cpu, 2), max_rel_error=rel_error,
        verified=rel_error <= RTOL and (fp16_error is None or fp16_error <= FP16_RTOL), fp16_max_rel_error=fp16_error,
        top_kernels=[{"name": r.name, "percent": round(r.percent, 1), "duration_us": round(r.duration_us, 1),
                      "shapes": r.shapes} for r in rows])


def markdown(results: list[ModelResult], host: dict, repeat: int) -> str:
    def ms(value):
        return f"{value:.2f}" if value else "-"

    def ratio(value):
        return f"{value:.2f}x" if value else "-"

    def compile_time(r):  # wall clock, and the compiler's own CPU time where it was measured
        cpu = f" ({r.compile_cpu_seconds:.1f} CPU)" if r.compile_cpu_seconds is not None else ""
        return f"{r.compile_seconds:.1f}{cpu}"

    def errors(r):
        fp16 = f" (fp16 {r.fp16_max_rel_error:.1e})" if r.fp16_max_rel_error is not None else ""
        return f"{r.max_rel_error:.1e}{fp16} {'PASS' if r.verified else 'FAIL'}"

    # one device, one set of engines per run; the fp16 engine only where it ran
    peer = next((r.peer for r in results if not r.error), "onnxruntime")
    shown = [e for e in ENGINE_NAMES if e != "sedge-fp16" or any(e in r.latency_ms for r in results)]
    others = [e for e in shown if e != peer]
    parents = _dense_parents(results)
    lines = ["| model | sedge compiled from | " + " | ".join(f"{ENGINE_NAMES[e]} (ms)" for e in shown) + " | "
             + " | ".join(f"{SHORT_NAMES[e]} / {SHORT_NAMES[peer]}" for e in others)
             + (" | sedge / its dense parent" if parents else "")
             + " | compile (s) | max rel error | dominant sedge kernel |",
             "|---|---|" + "---|" * (len(shown) + len(others) + 3 + bool(parents))]
    for r in results:
        if r.error:
            empty = " | ".join("-" for _ in [*shown, *others]) + (" | -" if parents else "")
            lines.append(f"| {r.model} | - | {empty} | - | - | failed: {r.error.replace('|', '/')} |")
            continue
        top = r.top_kernels[0] if r.top_kernels else {"name": "-", "percent": 0}
        parent = parents.get(r.model)
        compressed = (f"{ratio(r.latency_ms['sedge'] / parent.latency_ms['sedge'])} of {parent.model} | "
                      if parent else "- | " if parents else "")
        lines.append(f"| {r.model} | {r.sedge_source} | " + " | ".join(ms(r.latency_ms.get(e)) for e in shown)
                     + " | " + " | ".join(ratio(r.ratio(e, peer)) for e in others) + " | " + compressed +
                     f"{compile_time(r)} | {errors(r)} | {top['name']} ({top['percent']:.0f}%) |")
    gpu = f"GPU: {host['gpu']}; " if host.get("gpu") else ""
    where = ("fp32 (PyTorch with TF32 off), inputs from and outputs to host memory" if host.get("gpu") else "fp32")
    return (f"# sedge vs ONNX Runtime vs PyTorch\n\n{gpu}CPU: {host['cpu']} ({', '.join(host['cpu_flags'])}), "
            f"{host['threads']} threads of {host['logical_cpus']}; {host['date']}\n"
            f"Versions: {', '.join(f'{k} {v}' for k, v in host['versions'].items())}\n\n"
            + "\n".join(lines) + f"\n\nMedians of {repeat} runs per engine, interleaved in blocks of {BLOCK}, "
            f"each model's engines in one process; batch 1, {where}. sedge is checked against ONNX Runtime "
            "(max |diff| / max |reference|, tolerance 1e-4"
            + ("; sedge fp16 within 1e-2" if "sedge-fp16" in shown else "") + ").\n")


def _dense_parents(results: list[ModelResult]) -> dict:
    """{compressed zoo model: its dense parent's result} for the pairs both in this run."""
    from sedge.frontend.zoo.names import dense_parent

    ran = {r.model.removeprefix("zoo:"): r for r in results if not r.error}
    return {r.model: ran[dense_parent(r.model)] for r in results
            if not r.error and dense_parent(r.model) in ran}


def bench_or_failure(name: str, *args) -> tuple[ModelResult, int]:
    """`bench_model`'s result and exit code 0, or a failed row and the failure's exit code:
    a refused model's (4, 5, ...) or 1 for an internal error."""
    from sedge.errors import SedgeError, one_line

    try:
        return bench_model(name, *args), 0
    except SedgeError as err:
        return ModelResult.failed(name, one_line(err)), err.exit_code
    except Exception as err:  # a compiler bug is this model's row, not the end of the run
        return ModelResult.failed(name, f"internal error: {type(err).__name__}: {one_line(err)}"), 1


class ChildProcessDied(Exception):
    """The process running a model ended without a result (killed, or crashed in native code)."""


def _run_and_send(connection, function, args):
    connection.send(function(*args))
    connection.close()


def in_child_process(function, *args):
    """`function(*args)` in a fresh process: a native crash or the out-of-memory killer ends
    that process, not the run. "spawn": a fresh interpreter that inherits nothing from the
    models before it (a fork of a process that has loaded PyTorch or TVM copies their thread
    pools' locks in whatever state they are)."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run_and_send, args=(send, function, args))
    started = time.perf_counter()
    process.start()
    send.close()  # the child's copy is the only writer left: its death ends the pipe
    try:
        return receive.recv()
    except EOFError:
        pass  # the child ended without a result: its exit code says how
    finally:
        process.join()
        receive.close()
    code = process.exitcode
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
    hint = " (the out-of-memory killer's signal)" if code == -signal.SIGKILL else ""
    raise ChildProcessDied(f"its process {how} after {time.perf_counter() - started:.0f} s{hint}")


def write_report(out: Path, results: list[ModelResult], host: dict, args) -> str:
    """models.json and models.md for the models run so far (each file replaced whole); the table."""
    from sedge.files import atomic_write

    table = markdown(results, host, args.repeat)
    report = {"machine": host, "repeat": args.repeat, "warmup": args.warmup, "results": [asdict(r) for r in results]}
    atomic_write(out / "models.json", lambda tmp: Path(tmp).write_text(json.dumps(report, indent=1)))
    atomic_write(out / "models.md", lambda tmp: Path(tmp).write_text(table))
    return table


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=list(DEFAULT_MODELS),
                        help="zoo names (resnet18, zoo:mobilenetv2, ...), torchvision names (tv:efficientnet_b0, "
                             "tv:convnext_tiny:dynamo) or .onnx files")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where sedge and PyTorch run (cuda: the GPU of this machine)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every engine")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per engine and model (median)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument("--from-pytorch", action="store_true",
                        help="sedge compiles zoo models from their PyTorch program, not the ONNX export")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="also time sedge's float16 build (--mixed-precision: float32 accumulation), "
                             "checked against the float32 reference within 1e-2")
    parser.add_argument("-o", "--output", default="benchmarks/results", help="folder for models.json and models.md")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--threads and --repeat must be >= 1, --warmup >= 0")
    return args


def main(argv=None) -> int:
    args = _parse(argv)
    # TVM sizes its thread pool once, from this variable, at the first parallel kernel; left
    # unset it takes half the logical CPUs (it assumes hyper-threading)
    os.environ["TVM_NUM_THREADS"] = str(args.threads)
    # ONNX Runtime and PyTorch leave their threads unpinned; TVM pins its workers to cores,
    # which on a shared machine parks a worker behind another process: unpinned, all alike
    os.environ.setdefault("TVM_BIND_THREADS", "0")
    from sedge.errors import SedgeError

    try:
        host = machine(args.threads, args.device)
    except SedgeError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    results, exit_codes = [], []
    with tempfile.TemporaryDirectory(prefix="sedge-bench-") as tmp:
        for name in args.models:
            try:
                result, exit_code = in_child_process(bench_or_failure, name, args.repeat, args.warmup, args.threads,
                                                     Path(tmp), args.from_pytorch, args.device, args.mixed_precision)
            except ChildProcessDied as err:
                result, exit_code = ModelResult.failed(name, str(err)), 1
            results.append(result)
            if result.error:
                exit_codes.append(exit_code)
                print(f"error: {name}: {result.error}", file=sys.stderr, flush=True)
            else:
                print(f"{name}: " + ", ".join(f"{e} {v:.2f} ms" for e, v in result.latency_ms.items()), flush=True)
            table = write_report(out, results, host, args)
    print(table)
    if exit_codes:
        return exit_codes[0]
    return 0 if all(r.verified for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
