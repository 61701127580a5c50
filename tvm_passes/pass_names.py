"""Passes by name: the recipe as a table for `sedge passes list`, and the check of the names
users give `--disabled-pass` and `--print-ir-before/after`.

A name is valid when a pass of that name can run in a compile: a pass of the recipe (or a
step inside one, such as ChannelsLast's ConvertLayout), one of TVM's transforms, which run
inside the recipe's passes and in TVM's TIR lowering, or, for the few that TVM names apart
from any listing, a pass that a probe compile of a small conv for the same target ran.
tvmc scripts name TIR passes as TVM <= 0.19 did (`tir.UnrollLoop`); 0.27 calls them
`tirx.*` or `s_tir.*`.
"""
import functools
import inspect
import json

import numpy as np
import tvm
import tvm_ffi
from tvm import relax

from sedge.errors import SedgeError
from sedge.tvm_passes.pipeline import REWRITE, SCHEDULES, phases

# TVM passes whose Python constructor has another name than the pass
_TVM_CONSTRUCTORS = {"DecomposeOps": "DecomposeOpsForInference"}


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n")[0].rstrip(".")


def _sedge_summaries(target: tvm.target.Target) -> dict[str, str]:
    """Pass name -> the first line of its module's docstring, for sedge's own passes."""
    factories = (*REWRITE, SCHEDULES[target.kind.name])
    return {factory(target).info.name: _first_line(inspect.getmodule(factory).__doc__) for factory in factories}


def _tvm_summary(name: str) -> str:
    constructor = _TVM_CONSTRUCTORS.get(name, name)
    for namespace in (relax.transform, relax.backend, tvm.s_tir.dlight):
        if hasattr(namespace, constructor):
            return f"TVM: {_first_line(getattr(namespace, constructor).__doc__)}"
    return "TVM's pass"


def recipe_table(target: tvm.target.Target) -> list[tuple[str, str, str]]:
    """(phase, pass name, one-line summary) for every pass of the recipe, in run order."""
    sedge = _sedge_summaries(target)
    return [(phase, p.info.name, sedge.get(p.info.name) or _tvm_summary(p.info.name))
            for phase, passes in phases(target).items() for p in passes]


def _with_steps(p: tvm.transform.Pass):
    yield p.info.name
    for step in getattr(p, "passes", None) or []:  # a Sequential's own passes
        yield from _with_steps(step)


def recipe_names(target: tvm.target.Target) -> list[str]:
    """The names of the recipe's passes and of the steps inside them, in run order."""
    return list(_recipe_names(str(target)))


@functools.lru_cache(maxsize=4)  # a compile checks three flags against the same target
def _recipe_names(target_json: str) -> tuple[str, ...]:
    target = tvm.target.Target(json.loads(target_json))
    names = [name for passes in phases(target).values() for p in passes for name in _with_steps(p)]
    return tuple(dict.fromkeys(names))


@functools.cache
def _registered_tvm_names() -> frozenset[str]:
    """Names of TVM's transforms, registered with its FFI or offered by its Python modules:
    relax.transform.X runs as X, tirx.transform.X as tirx.X, s_tir.transform.X as s_tir.X."""
    names = set()
    for function in tvm_ffi.registry.list_global_func_names():
        namespace, sep, name = function.partition(".transform.")
        if sep and name:
            names.add(name if namespace.startswith("relax") else f"{namespace}.{name}")
    for prefix, module in (("", relax.transform), ("tirx.", tvm.tirx.transform), ("s_tir.", tvm.s_tir.transform)):
        names |= {prefix + name for name in dir(module) if name[:1].isupper()}
    return frozenset(names)


def canonical_names(names: list[str], flag: str, target: tvm.target.Target) -> list[str]:
    """`names` as TVM 0.27 calls them (tvmc's `tir.X` -> `tirx.X` or `s_tir.X`); a SedgeError
    naming the valid ones when any is no pass that can run."""
    recipe = recipe_names(target)
    known = set(recipe) | _registered_tvm_names()
    if any(_tvm_name(name, known) not in known for name in names):
        known |= _names_run_by_a_compile(str(target))  # passes that only nested pipelines build
    canonical, unknown = [], []
    for name in map(lambda name: _tvm_name(name, known), names):
        (canonical if name in known else unknown).append(name)
    if unknown:
        raise SedgeError(f"unknown pass name(s) {', '.join(unknown)} in {flag}; valid: the recipe's passes "
                         f"{', '.join(recipe)}, or a TVM transform (e.g. tir.UnrollLoop); "
                         "`sedge passes list` shows the recipe")
    return canonical


def _tvm_name(name: str, known: set[str]) -> str:
    """tvmc's `tir.X` as TVM 0.27 calls it, where a pass of that name exists."""
    if name.startswith("tir."):
        return next((n for n in (f"tirx.{name[4:]}", f"s_tir.{name[4:]}") if n in known), name)
    return name


@functools.lru_cache(maxsize=4)
def _names_run_by_a_compile(target_json: str) -> frozenset[str]:
    """Every pass a compile of a small conv + ReLU runs for the target, nested ones included
    (TVM builds its TIR lowering pipeline inside a pass, so no listing shows it; sedge's
    TIR pipeline, tir_pipeline.py, wraps it)."""
    from sedge.tvm_passes.instruments import PassRecorder
    from sedge.tvm_passes.pipeline import sedge_pipeline
    from sedge.tvm_passes.tir_pipeline import register

    target = tvm.target.Target(json.loads(target_json))
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 8, 8, 8), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            weight = relax.const(np.ones((8, 8, 3, 3), "float32"))
            out = bb.emit_output(relax.op.nn.relu(relax.op.nn.conv2d(x, weight, padding=1)))
        bb.emit_func_output(out)
    recorder = PassRecorder()
    with tvm.transform.PassContext(opt_level=3, instruments=[recorder]):
        tvm.compile(sedge_pipeline(target)(bb.get()), target, relax_pipeline=None, tir_pipeline=register())
    return frozenset(recorder.names)
