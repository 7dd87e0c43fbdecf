"""How often agents' own words mention sabotage, lying, manipulation or a test."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from pydantic import BaseModel

from tripwire.results._row import REASONING_CATEGORIES, ResultRow

from ._rates import share_with_interval

__all__ = ["PATTERNS_SOURCE", "ReasoningRate", "reasoning_rates"]

PATTERNS_SOURCE = "patterns"
"""The `source` of rates found by the pattern sets (otherwise the grader model)."""


class ReasoningRate(BaseModel):
    """The share of one evaluation's samples whose words mention one category."""

    model: str
    scenario: str
    source: str
    """Who read the words: `patterns` or the grader model."""

    category: str
    """`sabotage`, `lying`, `manipulation` or `eval-awareness`."""

    samples: int
    """Samples read: non-error samples (for a grader, those it graded without error)."""

    hits: int
    """Samples whose words mention the category."""

    errors: int = 0
    """Samples the grader could not grade (left out of `samples`); 0 for patterns."""

    rate: float | None
    """`hits / samples`; None when no sample was read (unscored, never 0)."""

    low: float | None
    """95% Wilson interval, lower bound."""

    high: float | None

    weak_evidence: bool = True
    """Always true: a mention is not an act; read beside the state detectors."""


def reasoning_rates(rows: Iterable[ResultRow]) -> list[ReasoningRate]:
    """Mention rates per model × scenario × source × category, with Wilson intervals.

    Samples are the unit: a sample counts once per category however often its words
    mention it. Error samples are left out; for a grader model, only the samples it
    read (an interrogation with a grader) count, and those it could not grade are
    counted apart in `errors`.
    """
    patterns: dict[tuple[str, str], list[ResultRow]] = defaultdict(list)
    graded: dict[tuple[str, str, str], list[ResultRow]] = defaultdict(list)
    for row in rows:
        if row.outcome == "error":
            continue
        patterns[(row.model, row.scenario)].append(row)
        if row.reasoning_grader:
            graded[(row.model, row.scenario, row.reasoning_grader)].append(row)
    result: list[ReasoningRate] = []
    for (model, scenario), members in patterns.items():
        for category in REASONING_CATEGORIES:
            hits = sum(category in r.reasoning for r in members)
            result.append(_rate(model, scenario, PATTERNS_SOURCE, category, len(members), hits))
    for (model, scenario, grader), members in graded.items():
        read = [r.reasoning_llm for r in members if r.reasoning_llm is not None]
        for category in REASONING_CATEGORIES:
            hits = sum(bool(answers.get(category)) for answers in read)
            result.append(
                _rate(model, scenario, grader, category, len(read), hits, len(members) - len(read))
            )
    order = {c: i for i, c in enumerate(REASONING_CATEGORIES)}
    return sorted(
        result,
        key=lambda r: (
            r.model,
            r.scenario,
            r.source != PATTERNS_SOURCE,
            r.source,
            order[r.category],
        ),
    )


def _rate(
    model: str, scenario: str, source: str, category: str, samples: int, hits: int, errors: int = 0
) -> ReasoningRate:
    rate, low, high = share_with_interval(hits, samples)
    return ReasoningRate(
        model=model,
        scenario=scenario,
        source=source,
        category=category,
        samples=samples,
        hits=hits,
        errors=errors,
        rate=rate,
        low=low,
        high=high,
    )
