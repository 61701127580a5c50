"""`sedge run PKG` / `tvmc run PKG`: run a package, time it, profile it, verify it."""
import numpy as np

from sedge.cli import command
from sedge.errors import SedgeError


@command("run", help="run a compiled package: outputs, timing, per-kernel profile, verification", tvmc=True)
def configure(p):
    from sedge.frontend.model import FILL_MODES
    from sedge.runtime.executor import DEVICES

    p.add_argument("package", help="a package from `sedge compile`")
    p.add_argument("-i", "--inputs", help="an .npz file of inputs by name; inputs it leaves out are made by "
                                           "--fill-mode")
    p.add_argument("-o", "--outputs", help="write the outputs to this .npz file (output_0, output_1, ...)")
    p.add_argument("--fill-mode", choices=FILL_MODES, default="random",
                   help="inputs that --inputs does not give (all of them without --inputs): zeros, ones or "
                        "random (default)")
    p.add_argument("--device", choices=DEVICES, default="cpu")
    p.add_argument("--print-time", action="store_true", help="print tvmc's execution time summary")
    p.add_argument("--repeat", type=int, default=1, help="timed repeats (each the mean of --number runs)")
    p.add_argument("--number", type=int, default=1, help="runs per timed repeat")
    p.add_argument("--end-to-end", action="store_true", help="include input/output copies in the timing")
    p.add_argument("--print-top", type=int, metavar="N", help="print the top N values of output_0 and their indices")
    p.add_argument("--profile", action="store_true", help="print a per-kernel profile")
    p.add_argument("--profile-out", help="also write the profile to a .csv or .json file")
    p.add_argument("--verify", action="store_true", help="compare with ONNX Runtime / PyTorch on the same inputs")
    device = p.add_argument_group("on a device (see docs/devices.md)")
    device.add_argument("--port", help="serial port or pyserial URL of a board running `sedge agent`")
    device.add_argument("--board", help="a board name or .toml file: its link (baud rate, RPC key) and architecture")
    device.add_argument("--rpc-tracker", metavar="HOST:PORT", help="run through a TVM RPC tracker")
    device.add_argument("--rpc-key", help="the tracker key of the device to run on")
    device.add_argument("--expected", help="an .npz of expected outputs (output_0, ...) to check on the device")
    device.add_argument("--timeout", type=float, default=3.0, help="seconds of silence before a serial retry")


def _write_outputs(path, outputs):
    from sedge.files import atomic_write

    if not path.endswith(".npz"):
        raise SedgeError(f"--outputs '{path}' must end in .npz")
    # the temporary name ends in .npz too, so savez writes (and closes) exactly that file
    atomic_write(path, lambda tmp: np.savez(tmp, **{f"output_{i}": o for i, o in enumerate(outputs)}))


def _print_top(outputs, n):
    flat = outputs[0].reshape(-1)
    order = np.argsort(flat)[::-1][:n]
    print(f"The top {len(order)} values of output_0:")
    print("  index: " + " ".join(f"{int(i):>10}" for i in order))
    print("  value: " + " ".join(f"{float(flat[i]):>10.4f}" for i in order))


def drive(args):
    import sedge
    from sedge.runtime.profiler import format_table, write_profile

    if args.print_top is not None and args.print_top < 1:
        raise SedgeError(f"--print-top must be a positive number of values, got {args.print_top}")
    if args.port or args.rpc_tracker or args.rpc_key or args.board:
        from sedge.runtime.remote import run_remote

        result = run_remote(args.package, port=args.port, board=args.board, rpc_tracker=args.rpc_tracker,
                            rpc_key=args.rpc_key, inputs=args.inputs, expected=args.expected, repeat=args.repeat,
                            number=args.number, timeout=args.timeout, return_outputs=bool(args.outputs))
        print(result.report())
        if args.print_time:  # tvmc's table, over the samples the device timed
            print(result.stats.tvmc_table())
        if args.outputs:
            _write_outputs(args.outputs, result.outputs)
        return 4 if result.check and result.check["status"] == "FAIL" else 0
    if args.profile_out and not args.profile:
        args.profile = True
    options = sedge.RunOptions(inputs=args.inputs, fill_mode=args.fill_mode, device=args.device,
                               repeat=args.repeat if args.print_time else 0, number=args.number,
                               end_to_end=args.end_to_end, profile=args.profile, verify=args.verify)
    result = sedge.run(args.package, options)
    if args.outputs:
        _write_outputs(args.outputs, result.outputs)
    if result.timing:
        print(result.timing.tvmc_table())
    if args.print_top:
        _print_top(result.outputs, args.print_top)
    if result.profile:
        print(format_table(result.profile))
        if args.profile_out:
            write_profile(result.profile, args.profile_out)
    if result.verification:
        print(result.verification.line())
        if not result.verification.passed:
            return 4
    return 0
