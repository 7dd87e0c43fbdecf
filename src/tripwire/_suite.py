"""Run scenarios on models and gather tidy results: what `tripwire run/eval` do."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import rich
from inspect_ai import Task, eval_set
from inspect_ai.approval import ApprovalPolicy
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log

from tripwire._catalog import Evaluation, Size, all_evaluations
from tripwire._errors import ConfigError
from tripwire._progress import progress_sink
from tripwire.interrogate import ANSWER_STYLES
from tripwire.results import (
    InterrogationRow,
    ResultRow,
    interrogation_rows_from_log,
    rows_from_log,
)
from tripwire.scenarios._choose import parse_list
from tripwire.stats._calibration import GARBLED_AGENT, HONEST_AGENT, SCHEMER_AGENT

__all__ = [
    "EvalBatch",
    "SuiteRun",
    "batch_dirs",
    "guarded_twins",
    "plan_batches",
    "run_batches",
    "sized_args",
]


@dataclass
class EvalBatch:
    """One Inspect eval: a task on one or more models."""

    label: str
    """Shown on the progress bar, e.g. `calibration`."""

    task: Task
    """The Inspect task to run."""

    models: list[str]
    """Inspect model strings."""

    epochs: int = 1
    """Epochs per sample."""

    max_samples: int = 4
    """Samples run at once (1 for a local model whose KV cache is shared)."""

    max_sandboxes: int | None = None
    """Sandboxes alive at once; None for Inspect's default (per provider)."""

    max_subprocesses: int | None = None
    """Sandbox commands run at once; None for Inspect's default (the CPU count)."""

    model_args: dict[str, Any] = field(default_factory=dict)
    """Passed to every model of the batch."""

    approval: list[ApprovalPolicy] | None = None
    """Approval policies (the tripwire guard) every tool call passes; None: unguarded."""

    @property
    def total(self) -> int:
        """Samples this batch will score."""
        return len(self.task.dataset) * self.epochs * len(self.models)


@dataclass
class SuiteRun:
    """What a run produced."""

    rows: list[ResultRow]
    """One row per sample."""

    log_files: list[str]
    """Inspect logs written."""

    eval_errors: list[str]
    """Evals that failed as a whole (their samples may be missing from `rows`)."""

    interrogation: list[InterrogationRow] = field(default_factory=list)
    """One row per question put to an agent after its episode (none if not asked)."""


def run_batches(
    batches: Sequence[EvalBatch],
    log_dir: Path,
    on_start: Callable[[EvalBatch], Callable[[str], None]] | None = None,
    on_end: Callable[[EvalBatch], None] | None = None,
) -> SuiteRun:
    """Run each batch with Inspect, resuming whatever an earlier run left in `log_dir`.

    Each batch is an Inspect eval set in its own directory under `log_dir`, so a
    second call with the same `log_dir` (after a crash, a kill or a full disk)
    redoes nothing finished: complete evals are read back, interrupted ones
    resume with their completed samples reused (Inspect recovers those not yet
    flushed to the log from its sample buffer), and the rest run. Rows come from
    each eval's final log, so every sample is counted once.

    Args:
        batches: Evals to run, in order.
        log_dir: Where Inspect writes its `.eval` logs, one directory per batch.
        on_start: Called as each batch starts; returns a callback told each scored
            sample's outcome (for progress bars).
        on_end: Called as each batch ends.

    Raises:
        ConfigError: If `log_dir` holds logs of a run with other settings, or a
            log cannot be written (a full disk): one line saying what to do.
    """
    rows: list[ResultRow] = []
    interrogation: list[InterrogationRow] = []
    log_files: list[str] = []
    eval_errors: list[str] = []
    for batch, name in zip(batches, batch_dirs(batches), strict=True):
        if not batch.models:
            raise ConfigError(f"Batch {batch.label!r} has no models.")
        progress_sink(on_start(batch) if on_start else None)
        try:
            logs = _run_batch(batch, log_dir / name)
        finally:
            progress_sink(None)
        # Only a batch that ran ends: one that raised says why, not "0 schemed · 0 clean".
        if on_end:
            on_end(batch)
        for log in logs:
            log_files.append(str(log.location))
            if log.status != "success":
                reason = _eval_failure(log, log_dir / name)
                eval_errors.append(f"{batch.label} / {log.eval.model}: {reason}")
            log_rows = rows_from_log(log)
            rows.extend(log_rows)
            rows.extend(_missing_rows(batch, log.eval.model, log_rows, eval_errors))
            interrogation.extend(interrogation_rows_from_log(log))
    return SuiteRun(
        rows=rows, log_files=log_files, eval_errors=eval_errors, interrogation=interrogation
    )


def batch_dirs(batches: Sequence[EvalBatch]) -> list[str]:
    """The log directory name of each batch: its label made a file name, unique.

    The same plan gives the same names, which is what lets a rerun find its logs.
    """
    names: list[str] = []
    seen: Counter[str] = Counter()
    for batch in batches:
        base = re.sub(r"[^A-Za-z0-9._+-]+", "-", batch.label).strip("-.") or "batch"
        seen[base] += 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def _run_batch(batch: EvalBatch, directory: Path) -> list[EvalLog]:
    """Run (or resume) one batch as an Inspect eval set; its final logs, fully read."""
    # eval_set prints where its logs are to Rich's global console; tripwire's
    # own display says that, so its output is captured and dropped. (Not
    # `quiet`: Inspect's display="none" sets that itself, and it must stay set.)
    try:
        with rich.get_console().capture():
            _, headers = eval_set(
                batch.task,
                log_dir=str(directory),
                model=batch.models,
                model_args=batch.model_args,
                epochs=batch.epochs,
                display="none",
                fail_on_error=False,
                max_samples=batch.max_samples,
                max_sandboxes=batch.max_sandboxes,
                max_subprocesses=batch.max_subprocesses,
                score_display=False,
                approval=batch.approval,
                # One attempt per call: a failed eval is reported, and the next
                # call with the same log directory retries it.
                retry_attempts=1,
                retry_immediate=False,
                ctl_server=False,
            )
        logs = [read_eval_log(str(header.location)) for header in headers]
    except OSError as ex:
        raise ConfigError(_write_failure(directory, ex)) from ex
    except Exception as ex:
        # Inspect's PrerequisiteError (not public) says a precondition failed.
        if type(ex).__name__ != "PrerequisiteError":
            raise
        raise ConfigError(_prerequisite_failure(directory, ex)) from ex
    _drop_superseded(directory, logs)
    return logs


def _drop_superseded(directory: Path, final: Sequence[EvalLog]) -> None:
    """Delete the interrupted logs a finished eval has taken over.

    A resumed eval copies the completed samples of the log it resumes into its
    own; the interrupted one left behind would count those samples twice for
    anything reading the directory (`tripwire report`, `inspect view`).
    """
    finished = {log.eval.task_id for log in final if log.status == "success"}
    keep = {_local(str(log.location)) for log in final}
    for info in list_eval_logs(str(directory), recursive=False):
        path = _local(info.name)
        if path in keep or info.task_id not in finished:
            continue
        if read_eval_log(info, header_only=True).status != "success":
            path.unlink(missing_ok=True)


def _local(location: str) -> Path:
    return Path(location.removeprefix("file://")).resolve()


def _eval_failure(log: EvalLog, directory: Path) -> str:
    """Why an eval did not succeed, in one line."""
    if log.error:
        return log.error.message.strip().splitlines()[0] if log.error.message.strip() else "error"
    if log.status != "started":
        return log.status
    # Inspect returns a log still `started` when it could not write it to the end.
    free = shutil.disk_usage(directory).free
    full = f"; {directory} has {free // 1024} KB of disk left" if free < _LOW_DISK else ""
    return (
        f"its log could not be written to the end{full}: make room, then rerun with "
        "the same --out to resume"
    )


_LOW_DISK = 16 * 1024 * 1024


def _write_failure(directory: Path, ex: OSError) -> str:
    where = ex.filename or directory
    reason = ex.strerror or str(ex)
    return (
        f"Cannot write the eval logs ({where}: {reason}). Logs already written are "
        f"intact: make room, then rerun with the same --out to resume."
    )


def _prerequisite_failure(directory: Path, ex: Exception) -> str:
    message = str(getattr(ex, "message", ex))
    plain = re.sub(r"\[/?[a-z ]+\]", "", message).strip()
    first = plain.splitlines()[0].removeprefix("ERROR:").strip() if plain else ""
    if "not associated with a task" in plain:
        return (
            f"{directory} holds logs of a run with other settings (models, options or "
            f"tripwire version): rerun with the settings it was started with to resume "
            f"it, or pass a new --out."
        )
    return first or f"Inspect could not run the evals in {directory}."


def _missing_rows(
    batch: EvalBatch, model: str, present: list[ResultRow], eval_errors: list[str]
) -> list[ResultRow]:
    """Error rows for samples an eval never logged, so a failed eval loses nothing."""
    seen = {(row.sample_id, row.epoch) for row in present}
    reason = eval_errors[-1] if eval_errors else "sample missing from the log"
    missing = []
    for sample in batch.task.dataset:
        metadata = sample.metadata or {}
        for epoch in range(1, batch.epochs + 1):
            if (str(sample.id), epoch) in seen:
                continue
            missing.append(
                ResultRow(
                    scenario=str(metadata.get("scenario", batch.label)),
                    condition=str(metadata.get("condition", "")),
                    theme=str(metadata.get("theme", "")),
                    model=model,
                    epoch=epoch,
                    sample_id=str(sample.id),
                    outcome="error",
                    error=f"not run: {reason}",
                )
            )
    return missing


def plan_batches(
    evaluations: Sequence[Evaluation],
    models: Sequence[str],
    *,
    size: Size = "quick",
    task_args: dict[str, Any] | None = None,
    epochs: int = 1,
    calibration: bool = False,
    max_samples: int = 4,
    interrogate: dict[str, Any] | None = None,
) -> list[EvalBatch]:
    """The Inspect evals that run `evaluations` on `models` at a size.

    Calibration batches (the scripted reference agents of each evaluation) come
    first; they are instant, and a failure there makes every later rate suspect.

    Args:
        evaluations: What to run.
        models: Inspect model strings to evaluate.
        size: `quick` or `paper` task arguments.
        task_args: Overrides for every task (e.g. `max_turns`, `sandbox`, `themes`).
        epochs: Epochs per sample for the evaluated models.
        calibration: Also run each evaluation's scripted reference agents.
        max_samples: Samples run at once for remote models (a local model runs one).
        interrogate: `InterrogationConfig` options: question the agents after their
            episodes, in every evaluation whose task takes `interrogate` (the others
            run as they would without it). None: no questions.

    Raises:
        ConfigError: If `interrogate` is given and no evaluation can interrogate.
    """
    extra = dict(task_args or {})
    asking = _interrogating(evaluations, interrogate)
    # In a suite, an override one evaluation does not take (themes for sandbagging)
    # is left out for it; alone, the evaluation says it does not take it.
    suite = len(evaluations) > 1
    batches: list[EvalBatch] = []
    if calibration:
        for item in evaluations:
            schemers = [f"{SCHEMER_AGENT}-{v}" for v in item.schemer_variants()]
            if item.name in asking:
                schemers = _answer_styles(schemers)
            batches.append(
                EvalBatch(
                    label=f"{item.name}: calibration",
                    task=item.task(
                        **(
                            item.calibration
                            | _calibration_args(extra, item.parameters())
                            | asking.get(item.name, {})
                        )
                    ),
                    models=[HONEST_AGENT, *schemers, SCHEMER_AGENT, GARBLED_AGENT],
                    max_samples=8,
                )
            )
    for item in evaluations:
        renamed = item.rename(extra)
        own = {k: v for k, v in renamed.items() if not suite or k in item.parameters()}
        sized = sized_args([item.quick] if size == "quick" else item.paper, own, strict=not suite)
        for model in models:
            local = model.startswith("tripwire/") and "scripted" not in model
            for args in sized:
                batches.append(
                    EvalBatch(
                        label=f"{item.name}: {model}",
                        task=item.task(**(args | asking.get(item.name, {}))),
                        models=[model],
                        epochs=epochs,
                        max_samples=1 if local else max_samples,
                    )
                )
    return batches


def _interrogating(
    evaluations: Sequence[Evaluation], interrogate: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The `interrogate` task argument of each evaluation that takes it, by name."""
    if interrogate is None:
        return {}
    asking = {
        item.name: {"interrogate": dict(interrogate)}
        for item in evaluations
        if "interrogate" in item.parameters()
    }
    if not asking:
        able = [e.name for e in all_evaluations() if "interrogate" in e.parameters()]
        names = ", ".join(e.name for e in evaluations)
        raise ConfigError(
            f"{names} cannot interrogate its agents (nothing there is one act to ask "
            f"about): drop --interrogate, or choose from {', '.join(able)}."
        )
    return asking


def _answer_styles(schemers: list[str]) -> list[str]:
    """Scripted schemers given each answer style in turn (`.../confess`, `.../deny`, …).

    Their answers' true grades are known, so the graders' confusion matrix needs all
    of them; the plain schemer and the honest agent keep the default (denial).
    """
    return [f"{name}/{ANSWER_STYLES[i % len(ANSWER_STYLES)]}" for i, name in enumerate(schemers)]


def sized_args(
    sized: list[dict[str, Any]], extra: dict[str, Any], *, strict: bool = True
) -> list[dict[str, Any]]:
    """A size's task arguments with the user's overrides applied.

    Chosen conditions narrow each of the size's evals to those conditions (an eval
    left with none is dropped); chosen themes without a sample count mean one
    sample per chosen theme. With `strict`, a condition the size does not have is
    passed on for the task to reject; otherwise the evaluation is left out.
    """
    wanted = extra.get("conditions")
    chosen = set(parse_list(wanted)) if wanted is not None else None
    known = {c for args in sized for c in parse_list(args.get("conditions", ""))}
    if strict and chosen is not None and known and not chosen <= known:
        # An unknown condition: let the task reject it, naming the valid ones.
        return [sized[0] | extra]
    result = []
    for args in sized:
        merged = args | extra
        if chosen is not None and "conditions" in args:
            own = [c for c in parse_list(args["conditions"]) if c in chosen]
            if not own:
                continue
            merged["conditions"] = ",".join(own)
        counts = ("samples_per_condition", "pairs")
        if "themes" in extra and not any(key in extra for key in counts):
            for key in counts:
                merged.pop(key, None)
        result.append(merged)
    return result


def _calibration_args(extra: dict[str, Any], accepted: set[str]) -> dict[str, Any]:
    # Only the harness knobs apply to calibration; themes and sizes are its own.
    return {k: v for k, v in extra.items() if k in ("sandbox", "max_turns") and k in accepted}


def guarded_twins(batches: Sequence[EvalBatch], policy: str | None) -> list[EvalBatch]:
    """Each batch twice: as planned, and with every tool call checked by the guard.

    Args:
        batches: The planned batches.
        policy: Guard policy file; None for the shipped default policy.
    """
    from tripwire.guard._approver import guard_approver

    approver = guard_approver(policy=policy)
    twins: list[EvalBatch] = []
    for batch in batches:
        twins.append(batch)
        twins.append(
            replace(
                batch,
                label=f"{batch.label} +guard",
                approval=[ApprovalPolicy(approver=approver, tools="*")],
            )
        )
    return twins
