"""Model -> sedge package: run the pipeline, build the library, write the package.

`CompileOptions` is the one options object `sedge compile`, `tvmc compile` and
`sedge.compile()` fill; every field mirrors a tvmc flag.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sedge.contract import Metadata, TensorSpec
from sedge.errors import SedgeError, interrupted_in_tvm, one_line
from sedge.runtime.package import write_package
from sedge.tvm_passes import instruments
from sedge.tvm_passes.layer_records import layer_records
from sedge.tvm_passes.pass_config import LOWER_PASS_KEYS, lower_pass_pipeline
from sedge.tvm_passes.target import parse_target

DUMP_FORMATS = ("relax", "tir", "ll", "asm")


@dataclass
class CompileOptions:
    target: str | None = None  # tvmc string, inline JSON or .json path; None = this host
    board: str | None = None  # a board name or .toml file: its target (unless `target` is given) and caches
    target_options: dict = field(default_factory=dict)  # {(kind, option): value} from --target-<kind>-<opt>
    output: str = "module.tar"
    opt_level: int = 3
    cross_compiler: str | None = None
    cross_compiler_options: str = ""
    tuning_records: str | None = None
    disabled_passes: list = field(default_factory=list)
    pass_config: dict = field(default_factory=dict)
    dump_code: list = field(default_factory=list)
    print_pass_times: bool = False
    print_ir_before: list = field(default_factory=list)
    print_ir_after: list = field(default_factory=list)
    output_format: str | None = None  # tvmc's -f: "so" (a linked mod.so, required) or "tar" (objects)
    mixed_precision: bool = False  # tvmc's --mixed-precision: convs/matmuls in float16
    mixed_precision_ops: list | None = None  # tvmc's names (nn.conv2d, nn.dense) or Relax's
    mixed_precision_calculation_type: str | None = None  # float16
    mixed_precision_acc_type: str | None = None  # float32 (default) or float16
    lowering: dict = field(default_factory=dict)  # --lowering: {layer or "all": choice} (lowering.py)


def _check(options: CompileOptions):
    if not 0 <= options.opt_level <= 3:
        raise SedgeError(f"-O/--opt-level must be 0..3, got {options.opt_level}")
    unknown = set(options.dump_code) - set(DUMP_FORMATS)
    if unknown:
        raise SedgeError(f"unknown --dump-code format(s) {sorted(unknown)}; allowed: {', '.join(DUMP_FORMATS)}")
    if options.output_format not in (None, "so", "tar"):
        raise SedgeError(f"--output-format '{options.output_format}' is not supported; allowed: so, tar "
                         "(tvmc's 'mlf' is microTVM's Model Library Format, which TVM 0.27 does not have)")
    if options.tuning_records and not Path(options.tuning_records).is_dir():
        raise SedgeError(f"--tuning-records '{options.tuning_records}' is not a tuning-records directory "
                         "(written by `sedge tune -o DIR`)")


def _pass_context(options: CompileOptions, target, collected: instruments.PassRecorder, timing):
    import tvm

    from sedge.tvm_passes.pass_names import canonical_names

    disabled = canonical_names(options.disabled_passes, "--disabled-pass", target)
    before = canonical_names(options.print_ir_before, "--print-ir-before", target)
    after = canonical_names(options.print_ir_after, "--print-ir-after", target)
    extra = [timing] if timing else []
    printers = [instruments.PrintIR(before, after)] if before or after else []
    # tvmc scripts use TVM <= 0.19 names: `tir.*` options are `tirx.*` in 0.27
    config = {("tirx." + k[4:] if k.startswith("tir.") else k): v for k, v in options.pass_config.items()
              if k not in LOWER_PASS_KEYS}  # sedge runs those itself (tvm_passes/pass_config.py)
    # no argument checks in the kernels: only the VM calls them, with buffers the compiler
    # planned (the executor checks the model's inputs); the checks' code grows with each
    # kernel's arguments, and DenseNet's concats of up to 33 inputs made them a third of its
    # compile. `--pass-config tir.disable_assert=false` keeps them.
    config.setdefault("tirx.disable_assert", True)
    try:
        return tvm.transform.PassContext(opt_level=options.opt_level, config=config,
                                         disabled_pass=disabled,
                                         instruments=[collected, *extra, *printers])
    except (ValueError, AttributeError, TypeError) as err:
        raise SedgeError(f"bad --pass-config: {one_line(err)}") from None


def _target_config(options: CompileOptions) -> dict:
    """The JSON target; with a board, tagged with it, so that the schedules read its caches."""
    if not options.board:
        return parse_target(options.target, options.target_options)
    from sedge.boards import BOARDS_DIR, load_board

    board = load_board(options.board)
    shipped = Path(board.source).parent == BOARDS_DIR
    config = parse_target(options.target or board.compute.target, options.target_options)
    return {**config, "tag": board.name if shipped else str(Path(board.source).resolve())}


def _library_name(target: dict, options: CompileOptions) -> str:
    """A shared library when it can be linked here (host target or a cross compiler given)."""
    from sedge.tvm_passes.target import is_host_compatible

    host = target.get("host") if target["kind"] == "cuda" else target  # a GPU build links its host code
    needs_linker = isinstance(host, dict) and host.get("kind") == "llvm" and not is_host_compatible(host)
    if options.output_format == "tar":
        return "mod.tar"
    if options.output_format == "so" and needs_linker and not options.cross_compiler:
        raise SedgeError(f"--output-format so needs a linker for {target.get('mtriple')}: add --cross-compiler "
                         "(e.g. aarch64-linux-gnu-gcc), or use --output-format tar (objects, linked on the board)")
    return "mod.tar" if needs_linker and not options.cross_compiler else "mod.so"


def compile_model(model, options: CompileOptions) -> Path:
    """Compile `model` (a sedge.frontend.model.Model) into the package at options.output."""
    import tvm

    from sedge.tvm_passes.lowering import with_overrides
    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.schedules import unscheduled_kernels
    from sedge.tvm_passes.tir_pipeline import register as register_tir_pipeline

    _check(options)
    target_config = _target_config(options)
    target = tvm.target.Target(target_config)
    # the compressed layers' lowerings are decided here first: a --lowering naming no layer or
    # no option of it fails before anything is compiled
    records = layer_records(model.mod, target=target, lowering=options.lowering)
    collected = instruments.PassRecorder()
    timing = tvm.ir.instrument.PassTimingInstrument() if options.print_pass_times else None
    started = time.perf_counter()
    _library_name(target_config, options)  # an impossible --output-format fails before compiling
    mod = with_overrides(model.mod, options.lowering)
    if options.mixed_precision:
        from sedge.tvm_passes.mixed_precision import mixed_precision

        mod = mixed_precision(options.mixed_precision_ops, options.mixed_precision_calculation_type,
                              options.mixed_precision_acc_type)(mod)
    lower_passes = options.pass_config.get("tir.add_lower_pass") or options.pass_config.get("tirx.add_lower_pass")
    tir_pipeline = lower_pass_pipeline(lower_passes) if lower_passes else register_tir_pipeline()
    with _pass_context(options, target, collected, timing), interrupted_in_tvm():
        lowered = sedge_pipeline(target, options.tuning_records)(mod)
        executable = tvm.compile(lowered, target, relax_pipeline=None, tir_pipeline=tir_pipeline)
        if timing:
            print("Compilation time breakdown by pass:")  # tvmc's heading
            print(timing.render())
    build_seconds = time.perf_counter() - started
    metadata = Metadata(
        sedge_version=_version("sedge"), tvm_version=tvm.__version__, target=target_config,
        inputs=model.inputs, outputs=_outputs(model.mod), passes=collected.names, layers=records,
        params=[TensorSpec(n, list(p.shape), str(p.dtype)) for n, p in zip(model.param_names, model.params)],
        source=model.source, build={"seconds": round(build_seconds, 3), "opt_level": options.opt_level,
                                    "cross_compiler": options.cross_compiler, "notes": model.notes,
                                    "unscheduled_kernels": unscheduled_kernels(lowered),
                                    **_mixed_precision_record(options)})
    output = Path(options.output)
    with tempfile.TemporaryDirectory(prefix="sedge-build-") as tmp:
        library = Path(tmp) / _library_name(target_config, options)
        _export(executable, library, options)
        write_package(output, library, model.params, metadata)
    _dump(options, output, lowered, executable)
    return output


def _mixed_precision_record(options: CompileOptions) -> dict:
    """What --mixed-precision did, for `sedge run --verify` (float16 tolerance) and the reader."""
    if not options.mixed_precision:
        return {}
    from sedge.tvm_passes.mixed_precision import check

    ops, acc_type = check(options.mixed_precision_ops, options.mixed_precision_calculation_type,
                          options.mixed_precision_acc_type)
    return {"mixed_precision": {"ops": sorted(ops), "calculation_type": "float16", "acc_type": acc_type}}


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def _outputs(mod) -> list[TensorSpec]:
    ret = mod["main"].ret_ty
    fields = list(ret.fields) if hasattr(ret, "fields") else [ret]
    return [TensorSpec(f"output_{i}", [int(d) for d in f.shape], str(f.dtype)) for i, f in enumerate(fields)]


def _export(executable, library: Path, options: CompileOptions):
    import tvm

    if library.suffix == ".tar":
        executable.export_library(str(library))  # objects only: link on the board
        return
    fcompile = None
    if options.cross_compiler:
        fcompile = tvm.support.cc.cross_compiler(options.cross_compiler,
                                                 options=options.cross_compiler_options.split() or None)
    try:
        executable.export_library(str(library), fcompile=fcompile)
    except Exception as err:  # the C compiler's own message says what failed
        raise SedgeError(f"linking the library failed ({options.cross_compiler or 'host compiler'}): "
                         f"{one_line(err, last=True)}") from None


def _dump(options: CompileOptions, output: Path, lowered, executable):
    """tvmc's --dump-code: write <output>.<format> for each requested format."""
    import tvm
    from tvm import relax

    from sedge.runtime.package import atomic_write

    texts = {
        "relax": lambda: tvm.IRModule({gv: f for gv, f in lowered.functions.items()
                                       if isinstance(f, relax.Function)}).script(),
        "tir": lambda: tvm.IRModule({gv: f for gv, f in lowered.functions.items()
                                     if not isinstance(f, relax.Function)}).script(),
        "ll": lambda: "\n".join(m.inspect_source("ll") for m in executable.mod.imports),
        "asm": lambda: "\n".join(m.inspect_source("asm") for m in executable.mod.imports),
    }
    for fmt in options.dump_code:
        text = texts[fmt]()
        atomic_write(f"{output}.{fmt}", lambda tmp, text=text: Path(tmp).write_text(text))
