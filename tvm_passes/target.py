"""Targets: tvmc-style strings, inline JSON and JSON files -> TVM 0.27 JSON targets.

TVM 0.27 accepts only config dicts (`{"kind": "llvm", "mcpu": ...}`); users bring tvmc
strings such as "llvm -mcpu=skylake-avx512" or "cuda -arch=sm_80, llvm". `mcpu=native`
is rejected by TVM's LLVM, so the host CPU is detected through LLVM itself.
"""
import json
import re
import shlex
from pathlib import Path

from sedge.errors import SedgeError, one_line
from sedge.host import this_host

# the kinds sedge builds for; `--target-<kind>-<option>` flags are generated for these
KINDS = ("llvm", "cuda")
_LIST_OPTIONS = {"mattr", "keys", "libs", "cl-opt"}


def kind_options(kind: str) -> dict[str, str]:
    """Option name -> TVM type name ('str', 'int', 'bool', 'Array<str>', ...) of a target kind."""
    import tvm

    return dict(tvm.target.TargetKind.options_from_name(kind))


def host_target() -> dict:
    """The machine sedge runs on: LLVM's name for this CPU, every core."""
    from tvm.target import codegen

    host = {"kind": "llvm", "mcpu": str(codegen.llvm_get_system_cpu()), "num-cores": this_host().logical_cpus}
    return with_full_width_vectors(host)


def with_full_width_vectors(config: dict) -> dict:
    """An LLVM target for an AVX-512 CPU, told to keep 512-bit vectors (`-prefer-256-bit`)
    unless its mattr says otherwise. sedge's CPU schedules write 16-lane float vectors
    there, and LLVM's tuning for Intel server cores (prefer-256-bit, against the clock
    drop of early AVX-512 parts) split every elementwise body of them into two 256-bit
    halves: a 1x1 conv with a SiLU epilogue ran 2.5x slower, EfficientNet-B0 1.5x
    (docs/benchmarks.md). The reductions' FMAs kept 512-bit registers either way."""
    import tvm
    from tvm.target import codegen

    if config.get("kind") != "llvm" or any("prefer-256-bit" in a for a in config.get("mattr", [])):
        return config
    if not codegen.llvm_cpu_has_features(["avx512f"], tvm.target.Target(config)):
        return config
    return {**config, "mattr": [*config.get("mattr", []), "-prefer-256-bit"]}


def _convert(kind: str, option: str, value: str):
    types = kind_options(kind)
    if option not in types:
        raise SedgeError(f"unknown option '-{option}' for target '{kind}'; allowed: {', '.join(sorted(types))}")
    kind_type = types[option]
    try:
        if kind_type == "int":
            return int(value)
        if kind_type == "bool":
            if value.lower() not in ("1", "0", "true", "false"):
                raise ValueError(value)
            return value.lower() in ("1", "true")
    except ValueError:
        raise SedgeError(f"target option -{option} takes {kind_type}, got '{value}'") from None
    if option in _LIST_OPTIONS or kind_type.startswith("Array"):
        return [v for v in value.split(",") if v]
    return value


def _parse_one(text: str) -> dict:
    try:
        words = shlex.split(text)
    except ValueError as err:  # an unbalanced quote, a trailing backslash
        raise SedgeError(f"bad target '{text}': {err}; quote option values as a shell would") from None
    if not words:
        raise SedgeError("empty target; expected e.g. 'llvm', 'llvm -mcpu=skylake-avx512' or 'cuda'")
    kind, config = words[0], {}
    if kind not in KINDS:
        raise SedgeError(f"unknown target kind '{kind}'; allowed: {', '.join(KINDS)} "
                         "(as 'kind -option=value ...', inline JSON or a .json file)")
    config["kind"] = kind
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        name, sep, value = word.lstrip("-").partition("=")
        if not word.startswith("-") or not name:
            raise SedgeError(f"bad target option '{word}' in '{text}'; expected -option=value or -option value")
        if not sep:  # TVM's old parser also took "-num-cores 2"
            if not rest or rest[0].startswith("-"):
                raise SedgeError(f"target option '{word}' in '{text}' has no value; expected -{name}=VALUE "
                                 f"or -{name} VALUE")
            value = rest.pop(0)
        if not value:
            raise SedgeError(f"target option '-{name}=' in '{text}' has an empty value; give one, "
                             f"e.g. -{name}=VALUE, or leave the option out")
        if name == "mcpu" and value == "native":
            value = host_target()["mcpu"]
        config[name] = _convert(kind, name, value)
    return config


def parse_target(text: str | None, overrides: dict | None = None) -> dict:
    """A tvmc target string / inline JSON / JSON file path (None: the host) -> JSON target dict.

    `overrides` holds `--target-<kind>-<option>` values as {(kind, option): value}. A
    comma-separated "cuda, llvm" pair makes the llvm part the host of the cuda target.
    """
    if text is None:
        config = host_target()
    elif text.lstrip().startswith("{"):
        try:
            config = json.loads(text)
        except json.JSONDecodeError as err:
            raise SedgeError(f"--target looks like JSON but does not parse: {err}") from None
    elif text.endswith(".json"):
        if not Path(text).is_file():
            raise SedgeError(f"target file '{text}' does not exist")
        try:
            config = json.loads(Path(text).read_text())
        except json.JSONDecodeError as err:
            raise SedgeError(f"target file '{text}' is not valid JSON: {err}") from None
    else:
        # "cuda, llvm" pairs split where a comma is followed by a kind (mattr lists keep theirs)
        parts = [_parse_one(p) for p in re.split(rf",\s*(?=(?:{'|'.join(KINDS)})\b)", text) if p.strip()]
        if not parts:
            raise SedgeError(f"empty target '{text}'; expected e.g. 'llvm', 'llvm -mcpu=skylake-avx512' or 'cuda'")
        config = parts[0]
        if len(parts) == 2 and config["kind"] == "cuda" and parts[1]["kind"] == "llvm":
            config["host"] = parts[1]
        elif len(parts) > 1:
            raise SedgeError(f"bad target '{text}'; only 'cuda, llvm ...' (device, host) pairs may be combined")
    if config.get("kind") == "cuda" and "host" not in config:
        config["host"] = host_target()
    for (kind, option), value in (overrides or {}).items():
        # tvmc applied --target-<kind>-<option> to every target of that kind: the device, or the
        # host of a "cuda, llvm" pair
        host = config.get("host") if isinstance(config.get("host"), dict) else {}
        if str(value) == "":
            raise SedgeError(f"--target-{kind}-{option} has an empty value; give one "
                             f"(--target-{kind}-{option} VALUE) or leave the flag out")
        if kind == config.get("kind"):
            config[option] = _convert(kind, option, str(value))
        elif kind == host.get("kind"):
            config["host"] = {**host, option: _convert(kind, option, str(value))}
        else:
            raise SedgeError(f"--target-{kind}-{option} given, but the target is '{config.get('kind')}'")
    if isinstance(config.get("host"), dict):
        config["host"] = _with_triple_defaults(config["host"])
    return validate(with_full_width_vectors(validate(_with_triple_defaults(config))))


def _with_triple_defaults(config: dict) -> dict:
    """Fill what Debian's cross toolchains need to link objects for these triples, unless given:
    riscv64 Linux is RV64GC (double-float ABI), and *-gnueabihf is the hard-float ABI."""
    if not isinstance(config, dict):
        raise SedgeError(f"bad target {json.dumps(config)[:120]}; a JSON target is an object such as "
                         '{"kind": "llvm", "mcpu": "skylake-avx512"}')
    triple = config.get("mtriple", "")
    if not isinstance(triple, str):
        raise SedgeError(f"target option mtriple must be a string such as 'aarch64-linux-gnu', got {triple!r}")
    if triple.startswith("riscv64") and "mattr" not in config:
        config = {**config, "mattr": ["+m", "+a", "+f", "+d", "+c"]}
    if triple.endswith("gnueabihf") and "mfloat-abi" not in config:
        config = {**config, "mfloat-abi": "hard"}
    return config


def validate(config: dict) -> dict:
    """Check the dict against TVM; return it in TVM's canonical exported form."""
    import tvm

    if not isinstance(config, dict) or config.get("kind") not in KINDS:
        raise SedgeError(f"bad target {json.dumps(config)[:120]}; its 'kind' must be one of {', '.join(KINDS)}")
    try:
        target = tvm.target.Target(config)
    except ValueError as err:
        raise SedgeError(f"TVM rejects target {json.dumps(config)}: {one_line(err)}") from None
    return json.loads(str(target))


def is_host_compatible(config: dict) -> bool:
    """True when code for `config` runs on this machine (same arch, no foreign triple)."""
    from tvm.target import codegen

    if config.get("kind") != "llvm":
        return False
    triple = config.get("mtriple")
    return not triple or triple.split("-")[0] == str(codegen.llvm_get_system_triple()).split("-")[0]
