"""The user-facing error types: each carries a one-line message and the exit code the CLI uses.

tvmc's exit codes are kept: 4 for a sedge (compiler/driver) error, 5 for an import error.
Every stage raises one of these for bad input, so the CLI can print one line and exit.
The stage folders import these from `sedge.errors`; the module imports nothing itself, so
`runtime` and `hw_models` can use it on a board without torch or the compiler.
"""


class SedgeError(Exception):
    """A problem with the user's input or environment, stated in one line."""

    exit_code = 4


class ModelImportError(SedgeError):
    """The model file could not be read or holds something sedge cannot import."""

    exit_code = 5


class UnsupportedOpError(ModelImportError):
    """The model uses an operator that no converter handles."""

    def __init__(self, op: str, allowed: str = ""):
        hint = f"; supported: {allowed}" if allowed else ""
        super().__init__(f"unsupported operator '{op}'{hint}")
        self.op = op


def one_line(err: BaseException, last: bool = False) -> str:
    """The first (or, for tools that end with the cause, the last) non-empty line of an
    exception's message; its type name when the message is empty."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    return lines[-1] if last else lines[0]


class interrupted_in_tvm:  # noqa: N801 - used as `with interrupted_in_tvm():`
    """TVM's C++ code turns a Ctrl-C into an empty RuntimeError; inside this block, an error
    that follows a SIGINT becomes the KeyboardInterrupt it was (the CLI: "interrupted", 130)."""

    def __enter__(self):
        import signal
        import threading

        self.pressed, self.previous = False, None
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            def handler(signum, frame):
                self.pressed = True
                raise KeyboardInterrupt
            self.previous = signal.signal(signal.SIGINT, handler)
        return self

    def __exit__(self, kind, value, traceback):
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.pressed and kind is not None and issubclass(kind, Exception):
            raise KeyboardInterrupt from None
        return False
