"""tvmc's `--pass-config NAME=VALUE` entries -> PassContext config, with tvmc's list form
`tir.add_lower_pass=PHASE,PASS[,PHASE,PASS...]` (repeatable; the lists add up).

TVM 0.27 still registers the `tirx.add_lower_pass` option but its TIR pipeline no longer
reads it, so sedge runs those passes itself: `lower_pass_pipeline` registers a TIR
pipeline that wraps sedge's (tir_pipeline.py). Phases 0 and 1 (tvmc: before and after the
schedule is flattened) run before TVM's lowering passes, phases 2 and 3 (tvmc: after
vectorising; the last TIR before code generation) after them, before code generation.
Pass names are tvmc's (`tir.transform.UnrollLoop`, resolved in `tvm.tirx.transform`, then
`tvm.s_tir.transform`) or any importable `module.function` returning a pass.
"""
from __future__ import annotations

import importlib
import itertools

from sedge.errors import SedgeError, one_line

LOWER_PASS_KEYS = ("tir.add_lower_pass", "tirx.add_lower_pass")
_EXPECTED = "expected tir.add_lower_pass=PHASE,PASS[,PHASE,PASS...], e.g. tir.add_lower_pass=1,tir.transform.UnrollLoop"
_counter = itertools.count()


def _value(text: str):
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _resolve(name: str):
    """'tir.transform.UnrollLoop' / 'my_module.my_pass' -> a pass object (the function called)."""
    module_path, _, func_name = name.rpartition(".")
    if not module_path or not func_name:
        raise SedgeError(f"bad pass name '{name}' in tir.add_lower_pass; expected module.function, e.g. "
                         "tir.transform.UnrollLoop")
    short = module_path[len("tvm."):] if module_path.startswith("tvm.") else module_path
    if short == "tir.transform":  # TVM <= 0.19's home of them: now tirx or s_tir
        candidates = ["tvm.tirx.transform", "tvm.s_tir.transform"]
    elif short == "tir" or short.startswith("tir."):
        candidates = ["tvm.tirx" + short[len("tir"):]]
    elif short.split(".")[0] in ("tirx", "s_tir", "relax", "transform", "ir"):
        candidates = ["tvm." + short]
    else:
        candidates = [module_path]
    for candidate in candidates:
        try:
            module = importlib.import_module(candidate)
        except ImportError as err:
            if candidate == candidates[-1]:
                raise SedgeError(f"tir.add_lower_pass: cannot import '{module_path}' for pass '{name}' "
                                 f"({one_line(err)})") from None
            continue
        if hasattr(module, func_name):
            factory = getattr(module, func_name)
            try:
                return factory() if callable(factory) else factory
            except Exception as err:
                raise SedgeError(f"tir.add_lower_pass: '{name}()' failed: {one_line(err)}") from None
    raise SedgeError(f"tir.add_lower_pass: no pass '{func_name}' in {' or '.join(candidates)}")


def parse_lower_passes(value) -> list[tuple[int, object]]:
    """'1,tir.transform.UnrollLoop,2,mod.pass' (or a list of (phase, pass) pairs) -> [(1, Pass), ...]."""
    if not isinstance(value, str):
        pairs = list(value)
        if not all(isinstance(p, (tuple, list)) and len(p) == 2 and isinstance(p[0], int) for p in pairs):
            raise SedgeError(f"tir.add_lower_pass takes (phase, pass) pairs; {_EXPECTED}")
        return [(int(phase), p) for phase, p in pairs]
    items = [item.strip() for item in value.split(",")]
    if len(items) % 2 or not all(items):
        raise SedgeError(f"bad tir.add_lower_pass '{value}'; {_EXPECTED}")
    passes = []
    for phase, name in zip(items[::2], items[1::2]):
        if not phase.isdigit() or int(phase) > 3:
            raise SedgeError(f"bad tir.add_lower_pass '{value}': phase '{phase}' must be 0..3; {_EXPECTED}")
        passes.append((int(phase), _resolve(name)))
    return passes


def parse_pass_configs(entries: list[str]) -> dict:
    """`--pass-config` entries (NAME=VALUE) -> a config dict; add_lower_pass lists add up."""
    config = {}
    for entry in entries:
        name, sep, value = entry.partition("=")
        name = name.strip()
        if not sep or not name:
            raise SedgeError(f"bad --pass-config '{entry}'; expected NAME=VALUE, e.g. tir.disable_vectorize=true")
        if name in LOWER_PASS_KEYS:
            config.setdefault("tir.add_lower_pass", []).extend(parse_lower_passes(value))
        else:
            config[name] = _value(value.strip())
    return config


def lower_pass_pipeline(lower_passes) -> str:
    """Register a TIR pipeline running `lower_passes` around sedge's (tir_pipeline.py); returns
    its name for `tvm.compile(..., tir_pipeline=name)`."""
    from tvm.tirx import compilation_pipeline

    from sedge.tvm_passes.tir_pipeline import tir_pipeline

    passes = parse_lower_passes(lower_passes)
    before = [p for phase, p in sorted(passes, key=lambda x: x[0]) if phase <= 1]
    after = [p for phase, p in sorted(passes, key=lambda x: x[0]) if phase >= 2]

    def factory():
        return tir_pipeline(before, after, name="sedge.add_lower_pass")

    name = f"sedge-add-lower-pass-{next(_counter)}"
    compilation_pipeline.register_tir_pipeline(name, factory)
    return name
