"""Turn Inspect eval logs into tidy result rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, list_eval_logs, read_eval_log
from inspect_ai.scorer import Score

from tripwire._errors import ConfigError

from ._guard import guard_decisions
from ._interrogation import INTERROGATION_SCORER, InterrogationRow, interrogation_rows_from_log
from ._row import Outcome, ResultRow

__all__ = ["SCORER_NAME", "all_rows_from_log_dir", "rows_from_log", "rows_from_log_dir"]

SCORER_NAME = "scheming_outcome"
"""The scorer of the covert scenarios; any tripwire scorer's score carries an
`outcome` in its metadata, which is what rows are read from."""
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
    return all_rows_from_log_dir(log_dir)[0]


def all_rows_from_log_dir(
    log_dir: Path | str,
) -> tuple[list[ResultRow], list[InterrogationRow]]:
    """Result rows and interrogation rows from every eval log under a directory.

    Each log is read once.

    Raises:
        ConfigError: If the directory has no logs or a log cannot be read.
    """
    infos = list_eval_logs(str(log_dir))
    if not infos:
        raise ConfigError(f"No Inspect eval logs found in {log_dir}.")
    rows: list[ResultRow] = []
    interrogation: list[InterrogationRow] = []
    for info in infos:
        try:
            log = read_eval_log(info)
            rows.extend(rows_from_log(log))
            interrogation.extend(interrogation_rows_from_log(log))
        except Exception as ex:  # a torn or foreign log: say which, not a traceback
            raise ConfigError(f"Cannot read eval log {info.name}: {ex}") from ex
    return rows, interrogation


def _row(sample: EvalSample, model: str, scenario: str, location: str) -> ResultRow:
    metadata = sample.metadata or {}
    row = ResultRow(
        scenario=str(metadata.get("scenario", scenario)),
        condition=str(metadata.get("condition", "")),
        theme=str(metadata.get("theme", "")),
        model=model,
        epoch=sample.epoch,
        sample_id=str(sample.id),
        outcome="error",
        tokens=sum(u.total_tokens for u in (sample.model_usage or {}).values()),
        seconds=float(sample.total_time or 0.0),
        log_file=location,
    )
    guard, blocks = guard_decisions(sample)
    row = row.model_copy(
        update={"guard": guard, "guard_blocks": blocks, **_reasoning_fields(sample)}
    )
    if sample.error is not None:
        lines = sample.error.message.strip().splitlines()
        return row.model_copy(update={"error": lines[0] if lines else "sample raised an error"})
    score = _tripwire_score(sample)
    if score is None:
        return row.model_copy(update={"error": "sample was not scored"})
    meta = score.metadata or {}
    outcome = meta.get("outcome")
    if outcome not in _OUTCOMES:
        return row.model_copy(update={"error": f"unexpected outcome {outcome!r}"})
    measures = meta.get("measures") or {}
    return row.model_copy(
        update={
            "outcome": outcome,
            "setting": str(metadata.get("setting", "")),
            "evidence": [str(e) for e in meta.get("evidence", [])],
            "behaviours": [str(b) for b in meta.get("behaviours", [])],
            "measures": {str(k): float(v) for k, v in measures.items()},
            "error": meta.get("error"),
            "choice": meta.get("choice"),
            "chose_goal_option": meta.get("chose_goal_option"),
        }
    )


def _reasoning_fields(sample: EvalSample) -> dict[str, Any]:
    """What the agent's own words during the episode mention, by patterns and grader.

    The patterns read every sample's messages; the grader model's reading is in the
    interrogation's record, when the interrogation had one.
    """
    # On use: the interrogation package imports the scenarios, which import this one.
    from tripwire.interrogate._reasoning import episode_text, reasoning_categories

    fields: dict[str, Any] = {
        "reasoning": reasoning_categories(episode_text(sample.messages, sample.store))
    }
    score = (sample.scores or {}).get(INTERROGATION_SCORER)
    record = (score.metadata or {}).get("interrogation") if score else None
    grade = record.get("reasoning") if isinstance(record, dict) else None
    if isinstance(grade, dict) and grade.get("grader"):
        categories = grade.get("categories")
        fields["reasoning_grader"] = str(grade["grader"])
        fields["reasoning_llm"] = (
            {str(k): bool(v) for k, v in categories.items()}
            if isinstance(categories, dict) and not grade.get("error")
            else None
        )
    return fields


def _tripwire_score(sample: EvalSample) -> Score | None:
    """The sample's tripwire score: the one whose metadata holds an `outcome`."""
    scores = sample.scores or {}
    if SCORER_NAME in scores:
        return scores[SCORER_NAME]
    return next(
        (s for s in scores.values() if s.metadata and "outcome" in s.metadata),
        None,
    )
