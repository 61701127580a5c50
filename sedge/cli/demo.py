"""`sedge demo`: the main job on a built-in default model, end to end, in about a minute.

Builds a small residual CNN, exports it to ONNX, compiles it for this machine, verifies it
against ONNX Runtime, times sedge and ONNX Runtime in the same run, and writes a report
directory (report.md, report.json, the package and the model).
"""
from sedge.cli import command


@command("demo", help="compile, verify and time a built-in model against ONNX Runtime; write a report")
def configure(p):
    p.add_argument("-o", "--output-dir", default="sedge-demo", help="report directory (default sedge-demo)")
    p.add_argument("--repeat", type=int, default=30, help="timed repeats per engine (default 30)")
    p.add_argument("--target", help="target for the compile (default: this machine's CPU)")


def drive(args):
    from sedge.demo import run_demo

    report = run_demo(args.output_dir, args.repeat, args.target)
    print(report.markdown())
    print(f"report written to {args.output_dir}/")
    return 0 if report.verified else 4
