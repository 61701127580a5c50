"""`sedge demo`: the main job on a built-in default model, end to end, in about a minute.

A small residual CNN, dense and with structured convolutions: exported to ONNX, compiled for
this machine, verified against ONNX Runtime, timed against it in the same run, estimated on
a board; a report directory (report.md, report.json, estimate.txt/json, models, packages).
"""
from sedge.cli import command


@command("demo", help="the main job on a built-in CNN, dense and structured: compile, verify, time against "
                        "ONNX Runtime, estimate on a board; write a report")
def configure(p):
    p.add_argument("-o", "--output-dir", default="sedge-demo", help="report directory (default sedge-demo)")
    p.add_argument("--repeat", type=int, default=30, help="timed repeats per engine (default 30)")
    p.add_argument("--target", help="target for the compile (default: this machine's CPU)")
    p.add_argument("--board", default="raspberry-pi-4", help="board for the DRAM / energy estimate "
                                                              "(default raspberry-pi-4; see `sedge boards list`)")


def drive(args):
    from sedge.demo import run_demo

    report = run_demo(args.output_dir, args.repeat, args.target, args.board)
    print(report.markdown())
    print(f"report written to {args.output_dir}/")
    return 0 if report.verified else 4
