"""The `sedge` and `tvmc` command lines.

Each sub-command lives in its own module under `sedge.cli` and registers itself with the
`@command` decorator; `COMMAND_MODULES` is the one list to extend when adding a command.
A command's `drive(args)` only turns argparse values into one Python API call and prints
the result; the work happens in the stages. Errors become one line on stderr and the
exit code of the error (4 sedge, 5 import); `--verbose` shows the traceback too.
`-v` counts as tvmc's did: the log level is ERROR - 10 per -v (-vvvv: everything).
"""
import argparse
import importlib
import logging
import sys
import traceback
import warnings

from sedge.errors import SedgeError
from sedge.registry import Registry

COMMAND_MODULES = [
    "compile",
    "run",
    "demo",
    "agent",
    "boards",
    "estimate",
    "zoo",
    "compress",
    "tune",
    "bench",
    "passes",
]

_COMMANDS = Registry("sedge command")


def command(name, help, tvmc=False):
    """Register `configure(parser)` as sub-command `name`; its module defines `drive(args)`.

    `tvmc=True` also exposes the command under the `tvmc` entry point.
    """

    def register(configure):
        _COMMANDS.register(name)((help, configure, tvmc))
        return configure

    return register


class _Version(argparse.Action):
    """`--version`: tvmc printed TVM's version alone; sedge prints its own and TVM's."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        import tvm

        from sedge.tvm_passes.build import _version

        print(tvm.__version__ if parser.prog == "tvmc" else f"sedge {_version('sedge')} (TVM {tvm.__version__})")
        parser.exit()


_VERBOSE_HELP = "more output: -v warnings, -vv info, -vvv debug, -vvvv everything; any -v shows tracebacks"


def build_parser(prog="sedge", tvmc_only=False, command=None):
    """The parser of every command; with `command`, only that one's flags are set up: a
    command's `configure` may import the compiler (compile's target flags come from TVM's
    option lists), which `sedge boards list` should not wait for."""
    for module in COMMAND_MODULES:
        importlib.import_module(f"sedge.cli.{module}")
    parser = argparse.ArgumentParser(
        prog=prog, description="sedge: compile, run and estimate compressed neural networks on TVM")
    parser.add_argument("-v", "--verbose", action="count", default=0, help=_VERBOSE_HELP)
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, configure, in_tvmc) in _COMMANDS.items():
        if tvmc_only and not in_tvmc:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        if command in (None, name):
            p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=_VERBOSE_HELP)
            configure(p)
            p.set_defaults(drive=sys.modules[configure.__module__].drive, parser=p)
    return parser


def _command_word(argv: list[str]) -> str | None:
    """The command the line names: its first word that is not an option (the global options,
    -v and --version, take no value; --config has been moved after the command)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _config_after_command(argv):
    """tvmc read `--config FILE` anywhere on the line, also before the command: move it after."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, word in enumerate(argv):
        if word in COMMAND_MODULES:  # each command's module carries its name
            head = argv[:i]
            for j, flag in enumerate(head):
                if flag == "--config" and j + 1 < len(head):
                    return head[:j] + head[j + 2:] + [word, flag, head[j + 1]] + argv[i + 1:]
                if flag.startswith("--config="):
                    return head[:j] + head[j + 1:] + [word, flag] + argv[i + 1:]
            break
    return argv


def _run(argv, prog, tvmc_only):
    argv = _config_after_command(argv)
    args = build_parser(prog, tvmc_only, _command_word(argv)).parse_args(argv)
    if not args.verbose:  # library deprecation chatter is for developers, not users
        warnings.simplefilter("ignore")
    if args.verbose and args.command != "agent":  # the agent sets up its own log
        level = logging.ERROR - 10 * min(args.verbose, 4)  # tvmc: 40 - 10 * verbose, -vvvv = everything
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger().setLevel(level)
        log = logging.getLogger("TVMC" if prog == "tvmc" else "sedge.cli")  # tvmc logged as "TVMC"
        log.info("%s %s", prog, args.command)
        log.debug("arguments: %s", {k: v for k, v in vars(args).items() if k not in ("drive", "parser")})
    try:
        return args.drive(args) or 0
    except SedgeError as err:
        if args.verbose:
            traceback.print_exc()
        print(f"{prog}: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # the reader of our output went away (`sedge passes list | head`)
        sys.stderr.close()  # nothing more can be said; keep Python's shutdown quiet
        return 0
    except Exception as err:  # a bug in sedge, not bad input: still one line unless --verbose
        if args.verbose:
            traceback.print_exc()
        print(f"{prog}: internal error: {type(err).__name__}: {err} (rerun with --verbose for the traceback)",
              file=sys.stderr)
        return 1


def _interruptible(argv, prog, tvmc_only) -> int:
    """Ctrl-C anywhere, the imports before the command included, is one line and exit 130."""
    try:
        return _run(argv, prog, tvmc_only)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main(argv=None):
    sys.exit(_interruptible(argv, "sedge", tvmc_only=False))


def tvmc_main(argv=None):
    sys.exit(_interruptible(argv, "tvmc", tvmc_only=True))
