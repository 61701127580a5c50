"""The `--target-<kind>-<option> VALUE` flags that `compile` and `tune` share, generated from
TVM's own option list of each target kind, and their values as {(kind, option): value}."""

# options a flag must not set: the kind itself, the host (a target of its own) and TVM's
# bookkeeping
_NOT_FLAGS = ("kind", "host", "tag", "keys", "device", "from_device", "target_device_type")
_PREFIX = "target_opt__"


def add_target_flags(p):
    from sedge.tvm_passes.target import KINDS, kind_options

    for kind in KINDS:
        for option in sorted(kind_options(kind)):
            if option not in _NOT_FLAGS:
                p.add_argument(f"--target-{kind}-{option}", dest=f"{_PREFIX}{kind}__{option}",
                               metavar="VALUE", help="sets this option of the target")


def is_target_flag(dest: str) -> bool:
    return dest.startswith(_PREFIX)


def target_options(args) -> dict:
    """{(kind, option): value} of the --target-<kind>-<option> flags given."""
    return {tuple(name[len(_PREFIX):].split("__")): value for name, value in vars(args).items()
            if is_target_flag(name) and value is not None}
