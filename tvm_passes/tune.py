"""`sedge tune`: MetaSchedule search over a model's fused kernels, into a records directory.

The kernels are those the `schedule` phase of `sedge compile` sees (same pipeline up to
fusion), so `sedge compile --tuning-records DIR` finds every record. Before searching, each
kernel's hand schedule is measured and stored as a record of its own, so a short search
can only replace it with something faster. The builder works around the wheel's slow
default (docs/tuning.md): its workers skip importing `tvm.s_tir.tensor_intrin`.
Candidates run locally or on boards behind a TVM RPC tracker (`rpc_tracker` + `rpc_key`).
"""
from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sedge.errors import SedgeError, one_line
from sedge.runtime.rpc import parse_tracker, servers_for_key

RECORD_FILES = ("database_workload.json", "database_tuning_record.json")
BUILD_TIMEOUT_S = 120  # one kernel on a loaded 2-core machine can take a minute to build


@dataclass
class TuneOptions:
    output: str  # the records directory to write (created; existing records are kept)
    target: str | None = None
    target_options: dict = field(default_factory=dict)
    trials: int = 1000  # measured candidates over all kernels
    early_stopping: int | None = None  # stop a kernel after this many trials without improvement
    number: int = 10  # runs averaged per measurement
    repeat: int = 1  # measurements per candidate
    timeout: int = 10  # seconds per candidate run
    tuning_records: str | None = None  # records to resume from
    rpc_tracker: str | None = None  # host:port
    rpc_key: str | None = None
    progress: bool = True


def _check(options: TuneOptions):
    if options.trials < 1 or options.number < 1 or options.repeat < 1 or options.timeout < 1:
        raise SedgeError("--trials, --number, --repeat and --timeout must be >= 1")
    if options.early_stopping is not None and options.early_stopping < 1:
        raise SedgeError(f"--early-stopping must be >= 1, got {options.early_stopping}")
    if options.tuning_records and not all((Path(options.tuning_records) / f).is_file() for f in RECORD_FILES):
        raise SedgeError(f"--tuning-records '{options.tuning_records}' holds no records "
                         f"({' and '.join(RECORD_FILES)}, as written by `sedge tune -o DIR`)")
    if bool(options.rpc_tracker) != bool(options.rpc_key):
        raise SedgeError("--rpc-tracker and --rpc-key go together (e.g. --rpc-tracker 127.0.0.1:9190 --rpc-key rasp4)")
    if options.rpc_tracker:  # unreachable, or no board under the key: say so before compiling anything
        servers_for_key(options.rpc_tracker, options.rpc_key)


def build_without_tensor_intrinsics(mod, target, _params):
    """MetaSchedule's default_build minus its `import tvm.s_tir.tensor_intrin` (~30 s per
    worker on this wheel, which times every build out); CPU kernels need no intrinsics."""
    from tvm.driver import build as tvm_build
    from tvm.s_tir.transform import RemoveWeightLayoutRewriteBlock

    return tvm_build(RemoveWeightLayoutRewriteBlock(skip_tensor_rewrite=True)(mod), target=target)


def fused_kernels(model_mod, target):
    """The module the `schedule` phase of `sedge compile` receives."""
    import tvm

    from sedge.tvm_passes.pipeline import phases

    mod = model_mod
    with target, tvm.transform.PassContext(opt_level=3):
        for name, passes in phases(target).items():
            if name == "schedule":
                break
            mod = tvm.transform.Sequential(passes)(mod)
    return mod


def _runner(options: TuneOptions, target):
    from tvm.s_tir import meta_schedule as ms

    evaluator = ms.runner.EvaluatorConfig(number=options.number, repeat=options.repeat, min_repeat_ms=0)
    if options.rpc_tracker:
        host, port = parse_tracker(options.rpc_tracker)
        config = ms.runner.RPCConfig(tracker_host=host, tracker_port=port, tracker_key=options.rpc_key,
                                     session_timeout_sec=options.timeout)
        return ms.runner.RPCRunner(rpc_config=config, evaluator_config=evaluator)
    # measure with every core the target has, as the compiled model will run
    os.environ["TVM_NUM_THREADS"] = str(target.attrs.get("num-cores", os.cpu_count() or 1))
    return ms.runner.LocalRunner(timeout_sec=options.timeout, evaluator_config=evaluator)


def _record_hand_schedules(tasks, target, builder, runner, database, where: str):
    """Measure each kernel's hand schedule and commit it as a tuning record (one build and
    one run batch for all kernels: every batch starts worker processes). When none of them
    runs, the runner cannot run anything (a board gone, a timeout too short): an error
    naming the first failure, rather than a search whose every candidate fails and records
    that say nothing."""
    from tvm.s_tir import meta_schedule as ms

    from sedge.tvm_passes.schedules import schedule_func
    from sedge.tvm_passes.schedules.cpu import cpu_spec

    spec = cpu_spec(target)
    scheduled = [(task.dispatched[0], schedule_func(task.dispatched[0]["main"], spec)[0]) for task in tasks]
    scheduled = [(mod, sch) for mod, sch in scheduled if sch is not None]
    built = builder.build([ms.builder.BuilderInput(sch.mod, target) for _, sch in scheduled])
    runnable = [(mod, sch, b, ms.arg_info.ArgInfo.from_prim_func(mod["main"]))
                for (mod, sch), b in zip(scheduled, built) if not b.error_msg]
    futures = runner.run([ms.runner.RunnerInput(b.artifact_path, "cpu", args) for _, _, b, args in runnable])
    errors = []
    for (mod, sch, _, args_info), future in zip(runnable, futures):
        result = future.result()
        if result.error_msg:
            errors.append(result.error_msg)
        else:
            workload = database.commit_workload(mod)
            database.commit_tuning_record(ms.database.TuningRecord(sch.trace, workload, result.run_secs, target,
                                                                   args_info))
    if errors and len(errors) == len(runnable):
        raise SedgeError(f"no kernel ran on {where}: {one_line(errors[0])}")


def _progress_callback(total: int, early_stopping: int | None, show: bool):
    from tqdm import tqdm
    from tvm.ir.utils import derived_object
    from tvm.s_tir.meta_schedule.measure_callback import PyMeasureCallback

    @derived_object
    class Progress(PyMeasureCallback):
        """A tqdm bar over measured candidates; stops a kernel that stopped improving."""

        def __init__(self):
            super().__init__()
            self.bar = tqdm(total=total, unit="trial", desc="tuning", disable=not show)
            self.best, self.stale = {}, {}

        def apply(self, task_scheduler, task_id, measure_candidates, builder_results, runner_results):
            self.bar.update(min(len(measure_candidates), self.bar.total - self.bar.n))
            for result in runner_results:
                cost = min(float(s) for s in result.run_secs) if result.run_secs else None
                if cost is not None and cost < self.best.get(task_id, float("inf")):
                    self.best[task_id], self.stale[task_id] = cost, 0
                else:
                    self.stale[task_id] = self.stale.get(task_id, 0) + 1
            if early_stopping and self.stale.get(task_id, 0) >= early_stopping:
                task_scheduler.terminate_task(task_id)

    return Progress()


def _cost_model() -> str:
    """XGBoost when installed (MetaSchedule's default), else random ranking of candidates."""
    try:
        import xgboost  # noqa: F401
    except ImportError:
        return "random"
    return "xgb"


def with_num_cores(config: dict, options: TuneOptions) -> dict:
    """MetaSchedule's CPU rules need the target's "num-cores" (TVM stops with `Target does not
    have attribute "num-cores"`); tvmc users write plain "llvm", so a missing count is this
    machine's, or for boards behind an RPC tracker, stated with a note."""
    if config.get("kind") != "llvm" or "num-cores" in config:
        return config
    cores = os.cpu_count() or 1
    if options.rpc_tracker:
        print(f"note: the target gives no -num-cores; tuning for {cores} cores (this machine's). For a board "
              f"with another count, add it: --target \"llvm ... -num-cores N\"", file=sys.stderr)
    return {**config, "num-cores": cores}


def tune_model(model, options: TuneOptions) -> Path:
    """Tune `model` (a sedge.frontend.model.Model); returns the records directory."""
    import tvm

    from sedge.tvm_passes.target import parse_target

    _check(options)
    logging.getLogger("tvm.s_tir.meta_schedule").setLevel(logging.WARNING)  # the bar shows progress
    target = tvm.target.Target(with_num_cores(parse_target(options.target, options.target_options), options))
    if target.kind.name != "llvm":
        raise SedgeError(f"sedge tune measures CPU kernels; got a '{target.kind.name}' target")
    output = Path(options.output)
    created = not output.exists()
    try:
        output.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # a file in the way, no permission: the user's path, in one line
        raise SedgeError(f"cannot create the records directory '{output}': {err.strerror}; "
                         f"choose a directory path you can write") from None
    try:
        _search(model, options, target, output)
    except BaseException:
        if created:  # no records directory that looks like a result
            shutil.rmtree(output, ignore_errors=True)
        raise
    return output


def _search(model, options: TuneOptions, target, output: Path):
    from tvm.s_tir import meta_schedule as ms
    from tvm.s_tir.meta_schedule.relax_integration import extract_tasks, extracted_tasks_to_tune_contexts

    from sedge.tvm_passes.tensor_intrinsics import import_tensor_intrinsics

    if options.tuning_records and Path(options.tuning_records).resolve() != output.resolve():
        for name in RECORD_FILES:  # resume: the search starts from the earlier records
            shutil.copyfile(Path(options.tuning_records) / name, output / name)
    tasks = extract_tasks(fused_kernels(model.mod, target), target)
    if not tasks:
        raise SedgeError("the model has no kernels to tune")
    database = ms.database.JSONDatabase(work_dir=str(output))
    builder = ms.builder.LocalBuilder(f_build=build_without_tensor_intrinsics, max_workers=1,
                                      timeout_sec=BUILD_TIMEOUT_S)
    runner = _runner(options, target)
    where = f"the boards under RPC key '{options.rpc_key}'" if options.rpc_tracker else "this machine"
    _record_hand_schedules(tasks, target, builder, runner, database, where)
    import_tensor_intrinsics()  # which the contexts import
    contexts, weights = extracted_tasks_to_tune_contexts(tasks, work_dir=str(output), num_threads=1)
    progress = _progress_callback(options.trials, options.early_stopping, options.progress)
    callbacks = [*ms.measure_callback.MeasureCallback.create("default"), progress]
    try:
        ms.tune.tune_tasks(tasks=contexts, task_weights=weights, work_dir=str(output),
                           max_trials_global=options.trials, num_trials_per_iter=min(64, options.trials),
                           builder=builder, runner=runner, database=database, measure_callbacks=callbacks,
                           cost_model=_cost_model())
    finally:
        progress.bar.close()  # the bar's line ends before anything else is printed
