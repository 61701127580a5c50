"""`sedge compile MODEL` / `tvmc compile MODEL`: import, optimise and build a package."""
import json
import sys
from pathlib import Path

from sedge.cli import command
from sedge.cli.target_flags import add_target_flags, is_target_flag, target_options
from sedge.errors import SedgeError

_LIST_FLAGS = ("disabled_pass", "dump_code", "print_ir_before", "print_ir_after")


def _comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


@command("compile", help="compile a model (.onnx, .pt2, zoo:<name>) into a sedge package", tvmc=True)
def configure(p):
    from sedge.frontend.loaders import LOADERS

    p.add_argument("model", help="an .onnx file, a torch.export .pt2 file, or zoo:<name>")
    p.add_argument("--model-format", choices=[*LOADERS, "zoo"], help="the model's format (default: from the suffix)")
    p.add_argument("--input-shapes", help='input shapes, e.g. "input:[1,3,224,224] mask:[1,10]"')
    p.add_argument("-O", "--opt-level", type=int, default=3, help="optimisation level 0..3 (default 3)")
    p.add_argument("--target", help='tvmc string ("llvm -mcpu=skylake-avx512", "cuda"), inline JSON or a '
                                    ".json file (default: this machine's CPU)")
    add_target_flags(p)
    p.add_argument("--board", help="a board name (`sedge boards list`) or .toml file to compile for: its target, "
                                   "unless --target is given, and its cache sizes")
    p.add_argument("-o", "--output", default="module.tar", help="package path (default module.tar)")
    p.add_argument("--cross-compiler", help="C compiler that links the library for the target, e.g. "
                                            "aarch64-linux-gnu-gcc")
    p.add_argument("--cross-compiler-options", default="", help="extra options for the cross compiler")
    p.add_argument("--tuning-records", help="a tuning-records directory from `sedge tune`")
    p.add_argument("--desired-layout", choices=["NCHW", "NHWC"], help="accepted for tvmc scripts; sedge picks "
                   "kernel layouts itself (convs run channels-last, NHWC, on CPUs)")
    p.add_argument("--desired-layout-ops", nargs="+", metavar="OP", help="accepted with --desired-layout")
    p.add_argument("-f", "--output-format", choices=["so", "tar", "mlf"], default=None,
                   help="the package's library: so (linked here, mod.so; needs --cross-compiler for another "
                        "architecture) or tar (objects, mod.tar); default: so where it can be linked")
    p.add_argument("--mixed-precision", action="store_true", help="compute convs and matmuls in float16")
    p.add_argument("--mixed-precision-ops", nargs="+", metavar="OP",
                   help="ops to convert (default: nn.conv2d nn.dense; Relax names work too)")
    p.add_argument("--mixed-precision-calculation-type", metavar="DTYPE", help="float16 (the default)")
    p.add_argument("--mixed-precision-acc-type", metavar="DTYPE",
                   help="accumulator dtype: float32 (the default) or float16")
    p.add_argument("--executor", metavar="KIND", help="tvmc's executor: graph or vm (both mean TVM 0.27's "
                                                       "Relax VM, which sedge packages run on)")
    p.add_argument("--runtime", metavar="KIND", help="tvmc's runtime: cpp (TVM's C++ runtime, which sedge uses)")
    p.add_argument("--use-vm", action="store_true", help="accepted for tvmc scripts; sedge always builds for the "
                                                         "Relax VM")
    p.add_argument("--disabled-pass", type=_comma_list, default=[], help="comma-separated pass names to skip")
    p.add_argument("--pass-config", action="append", default=[], metavar="NAME=VALUE",
                   help="a PassContext config entry, e.g. tir.disable_vectorize=true (repeatable)")
    p.add_argument("--dump-code", type=_comma_list, default=[], help="write <output>.<fmt> for fmt in "
                                                                      "relax,tir,ll,asm")
    p.add_argument("--print-pass-times", action="store_true", help="print how long each pass took")
    p.add_argument("--print-ir-before", type=_comma_list, default=[], help="print the IR before these passes")
    p.add_argument("--print-ir-after", type=_comma_list, default=[], help="print the IR after these passes")
    p.add_argument("--lowering", action="append", default=[], metavar="LAYER=CHOICE",
                   help="force a compressed layer's lowering (e.g. StructuredConv_3=fold, all=sumpool+conv); "
                        "--explain lists the layers and their options")
    p.add_argument("--explain", action="store_true",
                   help="print each compressed layer's lowering choice, with every option's costs")
    p.add_argument("--config", help="a JSON file of flag values (keys: flag names without dashes)")


def _pass_config(entries):
    from sedge.tvm_passes.pass_config import parse_pass_configs

    return parse_pass_configs(entries)  # NAME=VALUE, and tvmc's tir.add_lower_pass=PHASE,PASS,... lists


def _lowering(entries):
    from sedge.tvm_passes.lowering import parse_lowering

    return parse_lowering(entries)


def apply_config_file(args, parser_defaults: dict):
    """--config: values from a JSON file fill every flag the command line left at its default."""
    path = Path(args.config)
    if not path.is_file():
        raise SedgeError(f"--config file '{path}' does not exist")
    try:
        values = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SedgeError(f"--config file '{path}' is not valid JSON: {err}") from None
    if not isinstance(values, dict):
        raise SedgeError(f"--config file '{path}' must hold a JSON object of flag values")
    from sedge.tvmc import flags_from_tvmc_config

    values = flags_from_tvmc_config(values)  # tvmc's layout ("targets": [...], ...) -> flat flag values
    for key, value in values.items():
        dest = key.lstrip("-").replace("-", "_")
        if dest not in parser_defaults or dest in ("model", "config", "drive"):
            raise SedgeError(f"--config: unknown flag '{key}'; allowed: "
                             f"{', '.join(sorted(k for k in parser_defaults if not is_target_flag(k)))}")
        if getattr(args, dest) == parser_defaults[dest]:
            if dest in _LIST_FLAGS and isinstance(value, str):
                value = _comma_list(value)
            setattr(args, dest, value)


def options_from_args(args):
    from sedge.tvm_passes.build import CompileOptions

    return CompileOptions(
        target=args.target, board=args.board, target_options=target_options(args), output=args.output,
        opt_level=args.opt_level,
        cross_compiler=args.cross_compiler, cross_compiler_options=args.cross_compiler_options,
        tuning_records=args.tuning_records, disabled_passes=args.disabled_pass,
        pass_config=_pass_config(args.pass_config), dump_code=args.dump_code,
        print_pass_times=args.print_pass_times, print_ir_before=args.print_ir_before,
        print_ir_after=args.print_ir_after, output_format=args.output_format,
        mixed_precision=args.mixed_precision, mixed_precision_ops=args.mixed_precision_ops,
        mixed_precision_calculation_type=args.mixed_precision_calculation_type,
        mixed_precision_acc_type=args.mixed_precision_acc_type, lowering=_lowering(args.lowering))


def drive(args):
    import sedge

    if args.config:
        apply_config_file(args, {a.dest: a.default for a in args.parser._actions})
    from sedge.tvmc import relay_era_flags

    for note in relay_era_flags(args):  # tvmc flags from the Relay era: their meaning here, or a refusal
        print(f"note: {note}")
    model = sedge.load(args.model, args.model_format, args.input_shapes)
    for note in model.notes:
        print(f"note: {note}")
    package = sedge.compile(model, options_from_args(args))
    meta = package.metadata
    print(f"compiled {args.model} for {json.dumps(meta.target)} in {meta.build['seconds']:.1f} s -> {package.path} "
          f"({len(meta.layers)} layers, {sum(r.macs for r in meta.layers) / 1e6:.1f} M MACs)")
    if args.explain:
        from sedge.tvm_passes.lowering import explain_table

        print(explain_table(meta.layers))
    slow = meta.build.get("unscheduled_kernels", {})
    if slow:
        print(f"warning: {len(slow)} kernel(s) run TVM's unscheduled loops (not vectorised or parallel): "
              + "; ".join(f"{name} ({why})" for name, why in slow.items()), file=sys.stderr)
