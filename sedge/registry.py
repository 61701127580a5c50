"""The one registry type every stage uses: a dict filled by a decorator, duplicates refused.

    PASSES = Registry("pass")

    @PASSES.register("ChannelsLast")
    def channels_last(target): ...

Entries keep registration order (a pipeline phase runs its passes in that order).
"""


class Registry(dict):
    def __init__(self, what: str):
        super().__init__()
        self.what = what

    def register(self, *names):
        """Decorator: file the decorated object under each of `names`."""

        def add(entry):
            for name in names:
                if name in self:
                    raise RuntimeError(f"{self.what} '{name}' registered twice")
                self[name] = entry
            return entry

        return add

    def update_from(self, entries: dict):
        """File every entry of `entries` under its key, duplicates refused as by `register`."""
        for name, entry in entries.items():
            self.register(name)(entry)
