"""`sedge tune MODEL -o DIR` / `tvmc tune MODEL -o DIR`: MetaSchedule tuning records for a model."""
from sedge.cli import command
from sedge.cli.target_flags import add_target_flags, target_options


@command("tune", help="search faster kernel schedules for a model (MetaSchedule) into a records directory",
         tvmc=True)
def configure(p):
    from sedge.frontend.loaders import LOADERS

    p.add_argument("model", help="an .onnx file, a torch.export .pt2 file, or zoo:<name>")
    p.add_argument("--model-format", choices=list(LOADERS), help="the model's format (default: from the suffix)")
    p.add_argument("--input-shapes", help='input shapes, e.g. "input:[1,3,224,224]"')
    p.add_argument("--target", help="tvmc string, inline JSON or a .json file (default: this machine's CPU); "
                                    "a plain 'llvm' tunes for every core of this machine")
    add_target_flags(p)
    p.add_argument("-o", "--output", help="records directory (apply with `sedge compile --tuning-records DIR`); "
                                          "required, here or in --config")
    p.add_argument("--trials", type=int, default=1000, help="measured candidates over all kernels (default 1000)")
    p.add_argument("--early-stopping", type=int, help="stop a kernel after this many trials without improvement")
    p.add_argument("--number", type=int, default=10, help="runs averaged per measurement (default 10)")
    p.add_argument("--repeat", type=int, default=1, help="measurements per candidate (default 1)")
    p.add_argument("--timeout", type=int, default=10, help="seconds allowed per candidate run (default 10)")
    p.add_argument("--tuning-records", help="an earlier records directory to resume from")
    p.add_argument("--rpc-tracker", help="host:port of a TVM RPC tracker: measure on the board behind it")
    p.add_argument("--rpc-key", help="the board's key at the tracker")
    p.add_argument("--enable-autoscheduler", action="store_true",
                   help="accepted for tvmc scripts: sedge always searches with MetaSchedule, Ansor's successor")
    p.add_argument("--config", help="a JSON file of flag values (flag names without dashes, or tvmc's layout "
                                    "with \"targets\": [{\"kind\": \"llvm\", ...}])")


def drive(args):
    import sedge
    from sedge.cli.compile import apply_config_file
    from sedge.errors import SedgeError
    from sedge.tvm_passes.tune import TuneOptions, tune_model

    if args.config:
        apply_config_file(args, {a.dest: a.default for a in args.parser._actions})
    if not args.output:
        raise SedgeError("tune needs -o/--output DIR (the records directory), on the command line or in --config")
    if args.enable_autoscheduler:
        print("note: --enable-autoscheduler: TVM 0.27 has no Ansor; sedge tunes with MetaSchedule, its successor")
    options = TuneOptions(output=args.output, target=args.target, target_options=target_options(args),
                          trials=args.trials,
                          early_stopping=args.early_stopping, number=args.number, repeat=args.repeat,
                          timeout=args.timeout, tuning_records=args.tuning_records, rpc_tracker=args.rpc_tracker,
                          rpc_key=args.rpc_key)
    records = tune_model(sedge.load(args.model, args.model_format, args.input_shapes), options)
    prog = args.parser.prog.split()[0]  # sedge or tvmc
    print(f"tuning records in {records}; apply with: {prog} compile {args.model} --tuning-records {records}")
