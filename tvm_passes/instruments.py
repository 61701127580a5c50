"""Pass instruments: record which passes ran, print IR around named passes."""
import tvm


@tvm.instrument.pass_instrument
class PassRecorder:
    """Collects the names of the passes that ran, in order, each once."""

    def __init__(self):
        self.names = []

    def run_before_pass(self, _mod, info):
        if info.name not in self.names:
            self.names.append(info.name)


@tvm.instrument.pass_instrument
class PrintIR:
    """tvmc's --print-ir-before/--print-ir-after: print the module around the named passes."""

    def __init__(self, before, after):
        self.before, self.after = set(before), set(after)

    def run_before_pass(self, mod, info):
        if info.name in self.before:
            print(f"# IR before {info.name}\n{mod.script()}")

    def run_after_pass(self, mod, info):
        if info.name in self.after:
            print(f"# IR after {info.name}\n{mod.script()}")
