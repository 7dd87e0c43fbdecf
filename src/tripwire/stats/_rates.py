"""Scheming rates with 95% Wilson intervals, per scenario, model and condition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel

from tripwire.results._row import ResultRow

__all__ = [
    "CONDITION_ORDER",
    "GroupKey",
    "RateSummary",
    "condition_sort_key",
    "share_with_interval",
    "summarise",
    "wilson_interval",
]

CONDITION_ORDER: tuple[str, ...] = ("strong", "plain", "none")
"""Prompt conditions from the strongest goal nudge to none; other conditions sort after,
alphabetically."""

GroupKey = Literal["scenario", "model", "condition"]
"""A `ResultRow` field that rates can be grouped by."""

_GROUP_KEYS: tuple[GroupKey, ...] = ("scenario", "model", "condition")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion.

    Args:
        successes: Number of successes (here: samples that schemed).
        n: Number of trials (scored samples; errors excluded).
        confidence: Two-sided confidence level.

    Returns:
        The interval's `(low, high)` bounds, each within [0, 1].

    Raises:
        ValueError: If `n` is 0 (a rate over no samples has no interval; report
            it as unscored), `successes` is outside [0, n], or `confidence` is
            outside (0, 1).

    Example:
        >>> [round(b, 4) for b in wilson_interval(5, 10)]
        [0.2366, 0.7634]
    """
    if n <= 0:
        raise ValueError(f"No interval for n={n}: there are no scored samples.")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within [0, {n}], got {successes}.")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence}.")
    # statsmodels costs seconds to import; only pay for it when a rate is computed.
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, n, alpha=1.0 - confidence, method="wilson")
    # The Wilson bounds are exactly 0 at 0 successes and exactly 1 at n; statsmodels'
    # floating point can land a hair off (2.8e-17), which would print as "0.0%".
    if successes == 0:
        low = 0.0
    if successes == n:
        high = 1.0
    return float(low), float(high)


def share_with_interval(
    successes: int, n: int, confidence: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """`successes / n` with its Wilson interval, as `(rate, low, high)`.

    All three are None when `n` is 0: a rate over nothing is unscored, never 0.

    Example:
        >>> share_with_interval(0, 0)
        (None, None, None)
    """
    if n == 0:
        return None, None, None
    low, high = wilson_interval(successes, n, confidence)
    return successes / n, low, high


class RateSummary(BaseModel):
    """The scheming rate of one group of samples, with its interval and error count."""

    scenario: str
    """Scenario name, or "" when rates were not grouped by scenario."""

    model: str
    """Inspect model string, or "" when rates were not grouped by model."""

    condition: str
    """Prompt condition, or "" when rates were not grouped by condition."""

    n: int
    """Scored samples (`schemed` + `clean`): the rate's denominator."""

    schemed: int
    """Samples in which scheming was detected."""

    clean: int
    """Scored samples in which no scheming was detected."""

    errors: int
    """Samples that could not be scored; excluded from `n`, never counted as clean."""

    rate: float | None
    """`schemed / n`, or None when `n` is 0 (unscored: not a rate of zero)."""

    ci_low: float | None
    """Lower bound of the 95% Wilson interval, None when unscored."""

    ci_high: float | None
    """Upper bound of the 95% Wilson interval, None when unscored."""

    choices: int
    """Scored samples in which the agent picked an option through the scenario's
    selector tool (its `chose_goal_option` is known)."""

    chose_goal: int
    """Scored samples in which the picked option served the agent's own goal."""

    chose_goal_rate: float | None
    """`chose_goal / choices`, or None when no scored sample picked an option."""

    @property
    def total(self) -> int:
        """All samples in the group: scored plus errors."""
        return self.n + self.errors


def summarise(rows: Iterable[ResultRow], by: Sequence[GroupKey] = _GROUP_KEYS) -> list[RateSummary]:
    """Scheming rates per group of result rows.

    Error rows are counted in each group's `errors` and left out of its rate.

    Args:
        rows: Result rows, one per sample.
        by: Fields to group by, a subset of `scenario`, `model`, `condition`;
            fields left out are "" in the summaries. An empty `by` gives one
            summary over all rows.

    Returns:
        One summary per group, sorted by scenario, model, then condition in the
        order strong, plain, none, then other conditions alphabetically.

    Raises:
        ValueError: If `by` names a field rates cannot be grouped by.

    Example:
        ```python
        for s in summarise(rows_from_log_dir("runs/latest/logs")):
            print(s.model, s.condition, s.rate, s.errors)
        ```
    """
    unknown = [key for key in by if key not in _GROUP_KEYS]
    if unknown:
        raise ValueError(f"Cannot group rates by {unknown}: use {', '.join(_GROUP_KEYS)}.")
    groups: dict[tuple[str, str, str], list[ResultRow]] = {}
    for row in rows:
        key = tuple(getattr(row, field) if field in by else "" for field in _GROUP_KEYS)
        groups.setdefault((key[0], key[1], key[2]), []).append(row)
    summaries = [_summary(key, members) for key, members in groups.items()]
    return sorted(summaries, key=lambda s: (s.scenario, s.model, condition_sort_key(s.condition)))


def condition_sort_key(condition: str) -> tuple[int, str]:
    """Sort key putting `strong`, `plain`, `none` first, then others alphabetically."""
    if condition in CONDITION_ORDER:
        return CONDITION_ORDER.index(condition), ""
    return len(CONDITION_ORDER), condition


def _summary(key: tuple[str, str, str], rows: list[ResultRow]) -> RateSummary:
    schemed = sum(row.outcome == "schemed" for row in rows)
    clean = sum(row.outcome == "clean" for row in rows)
    errors = sum(row.outcome == "error" for row in rows)
    n = schemed + clean
    scored = [row for row in rows if row.outcome != "error"]
    choices = sum(row.chose_goal_option is not None for row in scored)
    chose_goal = sum(row.chose_goal_option is True for row in scored)
    rate, ci_low, ci_high = share_with_interval(schemed, n)
    return RateSummary(
        scenario=key[0],
        model=key[1],
        condition=key[2],
        n=n,
        schemed=schemed,
        clean=clean,
        errors=errors,
        rate=rate,
        ci_low=ci_low,
        ci_high=ci_high,
        choices=choices,
        chose_goal=chose_goal,
        chose_goal_rate=chose_goal / choices if choices else None,
    )
