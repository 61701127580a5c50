"""`sedge tune MODEL -o DIR` / `tvmc tune MODEL -o DIR`: MetaSchedule tuning records for a model."""
from sedge.cli import command


@command("tune", help="search faster kernel schedules for a model (MetaSchedule) into a records directory",
         tvmc=True)
def configure(p):
    from sedge.frontend.loaders import LOADERS

    p.add_argument("model", help="an .onnx file, a torch.export .pt2 file, or zoo:<name>")
    p.add_argument("--model-format", choices=list(LOADERS), help="the model's format (default: from the suffix)")
    p.add_argument("--input-shapes", help='input shapes, e.g. "input:[1,3,224,224]"')
    p.add_argument("--target", help="tvmc string, inline JSON or a .json file (default: this machine's CPU)")
    p.add_argument("-o", "--output", required=True, help="records directory (apply with `sedge compile "
                                                         "--tuning-records DIR`)")
    p.add_argument("--trials", type=int, default=1000, help="measured candidates over all kernels (default 1000)")
    p.add_argument("--early-stopping", type=int, help="stop a kernel after this many trials without improvement")
    p.add_argument("--number", type=int, default=10, help="runs averaged per measurement (default 10)")
    p.add_argument("--repeat", type=int, default=1, help="measurements per candidate (default 1)")
    p.add_argument("--timeout", type=int, default=10, help="seconds allowed per candidate run (default 10)")
    p.add_argument("--tuning-records", help="an earlier records directory to resume from")
    p.add_argument("--rpc-tracker", help="host:port of a TVM RPC tracker: measure on the board behind it")
    p.add_argument("--rpc-key", help="the board's key at the tracker")


def drive(args):
    import sedge
    from sedge.tvm_passes.tune import TuneOptions, tune_model

    options = TuneOptions(output=args.output, target=args.target, trials=args.trials,
                          early_stopping=args.early_stopping, number=args.number, repeat=args.repeat,
                          timeout=args.timeout, tuning_records=args.tuning_records, rpc_tracker=args.rpc_tracker,
                          rpc_key=args.rpc_key)
    records = tune_model(sedge.load(args.model, args.model_format, args.input_shapes), options)
    print(f"tuning records in {records}; apply with: sedge compile {args.model} --tuning-records {records}")
