"""`sedge estimate MODEL|PKG --board NAME`: DRAM traffic, energy and latency per layer.

MODEL is a model file or `zoo:<name>` (its layer records are read without compiling) or a
package from `sedge compile` (its metadata.json records). `--calibrate` fits the board's
effective throughput and bandwidth to measured latencies first.
"""
import dataclasses
import json
import os

from sedge.cli import command
from sedge.errors import SedgeError


@command("estimate", help="estimate DRAM traffic, energy and latency of a model on a board, "
                          "and the savings against a baseline")
def configure(p):
    from sedge.boards.schema import PRECISIONS

    p.add_argument("model", help="a package (.tar), a model file (.onnx, .pt2) or zoo:<name>")
    p.add_argument("--board", default="host", help="a board name (`sedge boards list`) or a .toml board file")
    p.add_argument("--baseline", metavar="MODEL|PKG", help="the uncompressed model to compare with")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32")
    p.add_argument("--input-shapes", help='input shapes for a model file, as "name:[1,3,224,224]"')
    p.add_argument("--json", action="store_true", help="print the estimate as JSON instead of the report")
    p.add_argument("--csv", metavar="FILE", help="write the per-layer table to this CSV file")
    p.add_argument("--plots", metavar="DIR", help="write PNG charts (DRAM per layer, energy breakdown) here")
    p.add_argument("--calibrate", nargs="+", metavar="PKG[=SECONDS]",
                   help="fit the board's effective throughput and bandwidth to these models' latencies: "
                        "MODEL|PKG=SECONDS (measured on the board; suffix ms allowed), or a package alone "
                        "to measure it here (--board host only)")


def drive(args):
    from sedge.boards import load_board
    from sedge.hw_models import estimate, format_report
    from sedge.hw_models.report import write_csv

    for path in (args.csv, args.plots):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise SedgeError(f"cannot write {path}: directory {os.path.dirname(os.path.abspath(path))} does not exist")
    board = load_board(args.board)
    records = _records(args.model, args.input_shapes)
    baseline = _records(args.baseline, args.input_shapes) if args.baseline else None
    calibration_lines = []
    if args.calibrate:
        board, calibration_lines, calibration = _calibrate(board, args.calibrate, args.precision)
    result = estimate(records, board, args.precision, baseline=baseline, model=_name(args.model),
                      baseline_model=_name(args.baseline) if args.baseline else "")
    if args.json:
        data = result.to_dict()
        if args.calibrate:
            data["calibration"] = calibration
        print(json.dumps(data, indent=1))
    else:
        print("\n".join(calibration_lines + [format_report(result)]))
    if args.csv:
        write_csv(result, args.csv)
    if args.plots:
        from sedge.hw_models.plots import write_plots

        write_plots(result, args.plots)
    return 0


def _name(spec: str) -> str:
    return spec if spec.startswith("zoo:") else os.path.basename(spec)


def _records(spec: str, input_shapes):
    if spec.endswith(".tar"):
        from sedge.runtime.package import open_package

        return open_package(spec).metadata.layers
    import sedge

    return sedge.layer_records(spec, input_shapes)


def _seconds(text: str) -> float:
    try:
        value = float(text[:-2]) / 1e3 if text.endswith("ms") else float(text.rstrip("s"))
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SedgeError(f"--calibrate measurement '{text}' is not a latency; allowed: seconds such as 0.015 or 15ms")
    return value


def _measure_here(package: str, board) -> float:
    """The median latency of a package run on this machine (the host board only)."""
    if board.name != "host":
        raise SedgeError(f"--calibrate {package} without '=SECONDS' runs it on this machine, so it needs "
                         f"--board host; for board {board.name} give the latency measured there: {package}=SECONDS")
    import sedge

    result = sedge.run(package, sedge.RunOptions(repeat=10, number=3))
    return result.timing.summary()["median"] / 1e3


def _calibrate(board, items, precision):
    from sedge.hw_models import estimate
    from sedge.hw_models.calibrate import Calibration, calibrated_board, fit, layer_times, predict_s

    specs = [item.rpartition("=")[0] or item for item in items]
    measured = [_seconds(item.rpartition("=")[2]) if "=" in item else _measure_here(item, board) for item in items]
    times = [layer_times(estimate(_records(spec, None), board, precision)) for spec in specs]
    calibration = fit(times, measured)
    lines = [f"Calibration on {board.name}: effective throughput {calibration.compute_scale:.3g} x peak, "
             f"effective bandwidth {calibration.memory_scale:.3g} x peak, "
             f"{calibration.launch_overhead_s * 1e6:.1f} us per kernel",
             f"  {'model':<40} {'peak model (ms)':>16} {'calibrated (ms)':>16} {'measured (ms)':>14} {'error':>8}"]
    models = []
    for spec, t, m in zip(specs, times, measured):
        peak, fitted = predict_s(t, Calibration(1.0, 1.0, board.compute.launch_overhead_s)), predict_s(t, calibration)
        models.append({"model": _name(spec), "peak_s": peak, "calibrated_s": fitted, "measured_s": m})
        lines.append(f"  {_name(spec):<40} {peak * 1e3:>16.3f} {fitted * 1e3:>16.3f} {m * 1e3:>14.3f} "
                     f"{(fitted - m) / m:>+8.1%}")
    summary = dict(dataclasses.asdict(calibration), models=models)
    return calibrated_board(board, calibration), lines + [""], summary
