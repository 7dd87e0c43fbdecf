"""The Inspect tasks of a scaled-out run, taken from tripwire's catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from inspect_ai import Task

from tripwire._catalog import Size, check_size, evaluations_named
from tripwire._errors import ConfigError
from tripwire._suite import sized_args

__all__ = ["ScaleTasks", "scale_tasks"]


@dataclass
class ScaleTasks:
    """The tasks to hand `inspect_ai.eval_set`, and the evaluations left out."""

    tasks: list[Task]
    """One task per evaluation and argument set of the chosen size."""

    names: list[str] = field(default_factory=list)
    """The evaluation each task belongs to, in the order of `tasks`."""

    skipped: dict[str, str] = field(default_factory=dict)
    """Evaluations that cannot run on the chosen sandbox, with the task's own reason."""


def scale_tasks(
    evals: str | Sequence[str] = "all",
    *,
    size: Size = "quick",
    sandbox: str = "bwrap",
    task_args: dict[str, Any] | None = None,
) -> ScaleTasks:
    """Build the Inspect tasks of `evals` at a size, for a sandbox provider.

    The argument sets come from tripwire's catalogue (`tripwire eval` runs the same
    ones): `quick` gives one task per evaluation, `paper` one per set of conditions
    that the paper counted separately. Each task is built with `sandbox` as its task
    argument, so an evaluation whose detector needs `bwrap` refuses another provider
    itself; it is listed in `skipped` with that refusal rather than run on a sandbox
    where its detector would be blind.

    Args:
        evals: Evaluation names or groups (`suite`, `incidents`, `all`).
        size: `quick` or `paper`.
        sandbox: Sandbox provider the tasks are built for (`bwrap`, `k8s`, ...).
        task_args: Arguments for every task that takes them (e.g. `max_turns`); an
            argument an evaluation does not take is left out for it.

    Raises:
        ConfigError: On an unknown evaluation or size, or if no evaluation can run on
            `sandbox`.

    Example:
        `scale_tasks("suite", size="paper", sandbox="k8s").tasks`
    """
    check_size(size)
    names = [evals] if isinstance(evals, str) else list(evals)
    chosen = [item for name in names for item in evaluations_named(name)]
    # Alone, an evaluation rejects an argument it does not take; in a group, the
    # argument is left out for it (as `tripwire eval` does).
    suite = len(chosen) > 1
    result = ScaleTasks(tasks=[])
    for item in chosen:
        if item.name in result.names or item.name in result.skipped:
            continue
        renamed = item.rename(dict(task_args or {}))
        own = {k: v for k, v in renamed.items() if not suite or k in item.parameters()}
        if sandbox != "bwrap":
            own["sandbox"] = sandbox
        sized = sized_args([item.quick] if size == "quick" else item.paper, own, strict=not suite)
        if not sized:
            result.skipped[item.name] = f"{item.name} has none of the chosen conditions."
            continue
        try:
            built = [item.task(**args) for args in sized]
        except ConfigError as ex:
            if sandbox == "bwrap":
                raise
            # Refused for the sandbox only if the same arguments build on bwrap;
            # otherwise the arguments themselves are wrong, and that is the error.
            bwrap = [{k: v for k, v in args.items() if k != "sandbox"} for args in sized]
            for args in bwrap:
                item.task(**args)
            result.skipped[item.name] = str(ex)
            continue
        result.tasks.extend(built)
        result.names.extend([item.name] * len(built))
    if not result.tasks:
        reasons = "; ".join(result.skipped.values())
        raise ConfigError(
            f"None of {', '.join(names)} can run on the {sandbox!r} sandbox ({reasons}): "
            "choose evaluations that can, or use bwrap."
        )
    return result
