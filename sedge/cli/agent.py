"""`sedge agent`: the board-side program that receives, checks and benchmarks packages."""
import logging
from pathlib import Path

from sedge.cli import command
from sedge.runtime.transport import DEFAULT_BAUDRATE


@command("agent", help="serve package uploads and benchmark runs from a host over a serial line (on the board)")
def configure(parser):
    parser.add_argument("--port", required=True,
                        help="serial device or pyserial URL to listen on: /dev/ttyGS0, /dev/ttyAMA0, socket://...")
    parser.add_argument("--workdir", default="~/.sedge-agent",
                        help="where uploaded packages are kept (default: ~/.sedge-agent)")
    parser.add_argument("--baudrate", type=int, default=DEFAULT_BAUDRATE, help=f"default {DEFAULT_BAUDRATE}")
    parser.add_argument("--keepalive", type=float, default=0.5,
                        help="seconds between keep-alives during long runs; keep it below the host's --timeout")


def drive(args):
    from sedge.runtime.agent import serve

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    serve(args.port, Path(args.workdir).expanduser(), args.baudrate, keepalive=args.keepalive)
