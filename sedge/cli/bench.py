"""`sedge bench PKG...`: benchmark several packages on a serial board or a TVM RPC farm."""
from sedge.cli import command


@command("bench", help="benchmark packages on a board (--port) or spread over a TVM RPC key (--rpc-tracker)")
def configure(p):
    p.add_argument("packages", nargs="+", help="packages from `sedge compile`")
    p.add_argument("--port", help="serial port or pyserial URL of a board running `sedge agent`")
    p.add_argument("--board", help="a board name or .toml file: its link (baud rate, RPC key) and architecture")
    p.add_argument("--rpc-tracker", metavar="HOST:PORT", help="run through a TVM RPC tracker")
    p.add_argument("--rpc-key", help="the tracker key whose servers share the packages")
    p.add_argument("--inputs", help="an .npz file of inputs by name (default: seeded random inputs)")
    p.add_argument("--expected", help="an .npz of expected outputs (output_0, ...) to check every package against")
    p.add_argument("--repeat", type=int, default=10, help="timed repeats (each the mean of --number runs)")
    p.add_argument("--number", type=int, default=1, help="runs per timed repeat")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds of silence before a serial retry")


def drive(args):
    from sedge.runtime.device_result import summary_table
    from sedge.runtime.remote import bench_remote

    results = bench_remote(args.packages, port=args.port, board=args.board, rpc_tracker=args.rpc_tracker,
                           rpc_key=args.rpc_key, inputs=args.inputs, expected=args.expected, repeat=args.repeat,
                           number=args.number, timeout=args.timeout)
    for result in results:
        print(result.report() + "\n")
    print(summary_table(results))
    return 4 if any(r.check and r.check["status"] == "FAIL" for r in results) else 0
