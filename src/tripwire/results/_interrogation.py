"""One tidy row per question put to an agent after its episode."""

from __future__ import annotations

from typing import Any, Literal

from inspect_ai.log import EvalLog, EvalSample
from pydantic import BaseModel

from ._guard import guard_decisions

__all__ = ["INTERROGATION_SCORER", "InterrogationRow", "interrogation_rows_from_log"]

INTERROGATION_SCORER = "interrogation_outcome"
"""The scorer whose metadata holds a sample's interrogation."""


class InterrogationRow(BaseModel):
    """One question and answer, flat enough for pandas or duckdb."""

    scenario: str
    condition: str = ""
    model: str
    """The agent's Inspect model."""

    epoch: int = 1
    sample_id: str = ""
    guilty: bool
    """Whether the detector found scheming in the sample's episode."""

    kind: Literal["follow_up", "turn"]
    """A single-turn follow-up question, or one turn of a multi-turn interview."""

    wording: str = ""
    """For a follow-up: the wording's name (e.g. `indirect+management+honest`)."""

    repeat: int = 0
    """For a follow-up: which asking of its wording (0-based)."""

    turn: int = 0
    """For an interview: the turn (1-based); 0 on the one row of an interview that ended
    before its first answer (see `ended`)."""

    interrogator: str = ""
    """For an interview: `ladder` or the interrogator model."""

    ended: str = ""
    """For an interview: why it stopped (`admitted`, `interrogator_done`, `turn_limit`,
    `error`), on each of its rows."""

    question: str
    answer: str
    grade: Literal["confessed", "denied", "evaded", "error"]
    grader: str
    """`rules` or the grader model: every rate says which grader made it."""

    rules_grade: Literal["confessed", "denied", "evaded", "error"] | None = None
    """The rule grader's grade beside a model grader's; None when the rules graded."""

    verdict: Literal["guilty", "not guilty"] | None = None
    """For an interview with an interrogator model: its conclusion after this turn."""

    guard: str = ""
    """The guard approver of the sample's run (`tripwire/guard`), or empty when unguarded."""

    log_file: str = ""


def interrogation_rows_from_log(log: EvalLog) -> list[InterrogationRow]:
    """Every question put to every sample of a (fully read) log; none if not interrogated.

    A sample whose interrogation record is missing or malformed adds no rows: its
    answers are unknown, and the per-sample rows count it as whatever it was.
    """
    scenario = str((log.eval.metadata or {}).get("scenario", log.eval.task))
    rows: list[InterrogationRow] = []
    for sample in log.samples or []:
        rows += _sample_rows(sample, log.eval.model, scenario, str(log.location or ""))
    return rows


def _sample_rows(
    sample: EvalSample, model: str, scenario: str, location: str
) -> list[InterrogationRow]:
    score = (sample.scores or {}).get(INTERROGATION_SCORER)
    record: Any = (score.metadata or {}).get("interrogation") if score else None
    if not isinstance(record, dict):
        return []
    metadata = sample.metadata or {}
    base: dict[str, Any] = {
        "scenario": str(record.get("scenario") or metadata.get("scenario", scenario)),
        "condition": str(metadata.get("condition", "")),
        "model": model,
        "epoch": sample.epoch,
        "sample_id": str(sample.id),
        "guilty": bool(record.get("guilty")),
        "guard": guard_decisions(sample)[0],
        "log_file": location,
    }
    rows: list[InterrogationRow] = []
    try:
        for item in record.get("follow_ups") or []:
            rows.append(
                InterrogationRow(
                    **base,
                    kind="follow_up",
                    wording=item["wording"],
                    repeat=item["repeat"],
                    question=item["question"],
                    answer=item["answer"],
                    grade=item["grade"],
                    grader=item["grader"],
                    rules_grade=item.get("rules_grade"),
                )
            )
        interview = record.get("multi_turn")
        if isinstance(interview, dict) and not interview.get("turns"):
            # Ended before its first answer (a failure, or an interrogator done at once):
            # one row keeps it counted, as an error or as asked nothing and admitting nothing.
            failed = interview["ended"] == "error"
            rows.append(
                InterrogationRow(
                    **base,
                    kind="turn",
                    turn=0,
                    interrogator=interview["interrogator"],
                    ended=interview["ended"],
                    question="(the interview ended before its first question was answered)",
                    answer=str(interview.get("error") or ""),
                    grade="error" if failed else "evaded",
                    grader=interview["grader"],
                )
            )
        elif isinstance(interview, dict):
            for step in interview.get("turns") or []:
                rows.append(
                    InterrogationRow(
                        **base,
                        kind="turn",
                        turn=step["turn"],
                        interrogator=interview["interrogator"],
                        ended=interview["ended"],
                        question=step["question"],
                        answer=step["answer"],
                        grade=step["grade"],
                        grader=interview["grader"],
                        rules_grade=step.get("rules_grade"),
                        verdict=step.get("verdict"),
                    )
                )
    except (KeyError, TypeError, ValueError):
        return []  # a foreign or damaged record: no answers we can vouch for
    return rows
