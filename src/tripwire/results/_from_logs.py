"""Turn Inspect eval logs into tidy result rows."""

from __future__ import annotations

from pathlib import Path

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log

from tripwire._errors import ConfigError

from ._row import Outcome, ResultRow

__all__ = ["SCORER_NAME", "rows_from_log", "rows_from_log_dir"]

SCORER_NAME = "scheming_outcome"
_OUTCOMES: tuple[Outcome, ...] = ("schemed", "clean", "error")


def rows_from_log(log: EvalLog) -> list[ResultRow]:
    """One row per sample in a (fully read) eval log.

    A sample that raised, or has no tripwire score, is an `error` row: it is
    reported and counted, never dropped and never `clean`.
    """
    location = str(log.location or "")
    scenario = str((log.eval.metadata or {}).get("scenario", log.eval.task))
    return [_row(sample, log.eval.model, scenario, location) for sample in log.samples or []]


def rows_from_log_dir(log_dir: Path | str) -> list[ResultRow]:
    """Rows from every eval log under a directory.

    Raises:
        ConfigError: If the directory has no logs or a log cannot be read.
    """
    infos = list_eval_logs(str(log_dir))
    if not infos:
        raise ConfigError(f"No Inspect eval logs found in {log_dir}.")
    rows: list[ResultRow] = []
    for info in infos:
        try:
            rows.extend(rows_from_log(read_eval_log(info)))
        except Exception as ex:  # a torn or foreign log: say which, not a traceback
            raise ConfigError(f"Cannot read eval log {info.name}: {ex}") from ex
    return rows


def _row(sample: EvalSample, model: str, scenario: str, location: str) -> ResultRow:
    metadata = sample.metadata or {}
    usage = sum(u.total_tokens for u in (sample.model_usage or {}).values())
    common = {
        "scenario": str(metadata.get("scenario", scenario)),
        "condition": str(metadata.get("condition", "")),
        "theme": str(metadata.get("theme", "")),
        "model": model,
        "epoch": sample.epoch,
        "sample_id": str(sample.id),
        "tokens": usage,
        "seconds": float(sample.total_time or 0.0),
        "log_file": location,
    }
    if sample.error is not None:
        message = sample.error.message.strip().splitlines()
        return ResultRow(outcome="error", error=message[0] if message else "error", **common)
    score = (sample.scores or {}).get(SCORER_NAME)
    if score is None:
        return ResultRow(outcome="error", error="sample was not scored", **common)
    meta = score.metadata or {}
    outcome = score.value if score.value in _OUTCOMES else "error"
    return ResultRow(
        outcome=outcome,  # type: ignore[arg-type]
        evidence=[str(e) for e in meta.get("evidence", [])],
        error=meta.get("error") or (None if outcome != "error" else f"bad score {score.value!r}"),
        choice=meta.get("choice"),
        chose_goal_option=meta.get("chose_goal_option"),
        **common,
    )
