"""The agent's command-line options and start-up, shared by `sedge agent` and
`python -m sedge.runtime.agent` (the entry point for a board that has only sedge's runtime)."""
import logging
from pathlib import Path

from sedge.errors import SedgeError
from sedge.runtime.transport import DEFAULT_BAUDRATE


def add_arguments(parser) -> None:
    parser.add_argument("--port", required=True,
                        help="serial device or pyserial URL to listen on: /dev/ttyGS0, /dev/ttyAMA0, socket://...")
    parser.add_argument("--workdir", default="~/.sedge-agent",
                        help="where uploaded packages are kept (default: ~/.sedge-agent)")
    parser.add_argument("--baudrate", type=int, default=DEFAULT_BAUDRATE, help=f"default {DEFAULT_BAUDRATE}")
    parser.add_argument("--keepalive", type=float, default=0.5,
                        help="seconds between keep-alives during long runs; keep it below the host's --timeout")


def start(args) -> None:
    from sedge.runtime.agent.server import serve

    if args.baudrate <= 0:
        raise SedgeError(f"--baudrate {args.baudrate} is not a baud rate; allowed: a positive integer such as "
                         f"{DEFAULT_BAUDRATE}")
    if not 0 < args.keepalive <= 60:
        raise SedgeError(f"--keepalive {args.keepalive:g} is out of range; allowed: seconds in (0, 60], "
                         "below the host's --timeout")
    workdir = Path(args.workdir).expanduser()
    if workdir.exists() and not workdir.is_dir() or any(p.exists() and not p.is_dir() for p in workdir.parents):
        raise SedgeError(f"--workdir '{args.workdir}' is not a directory; give a directory the agent can write")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    serve(args.port, Path(args.workdir).expanduser(), args.baudrate, keepalive=args.keepalive)
