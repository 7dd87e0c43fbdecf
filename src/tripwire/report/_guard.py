"""The guarded-vs-unguarded comparison: what the guard stopped, per scenario and model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field
from rich.markup import escape
from rich.table import Table

from tripwire.results import ResultRow
from tripwire.stats import summarise

from ._format import format_ci, format_percent

__all__ = ["GuardComparison", "guard_comparisons", "guard_table"]


class GuardComparison(BaseModel):
    """One scenario and model, run without and with the guard."""

    scenario: str
    """Scenario name."""

    model: str
    """Inspect model string."""

    unguarded: str
    """Scheming rate without the guard with its 95% Wilson interval and counts
    (`-` if not run, `unscored` if nothing was judged), errors noted."""

    guarded: str
    """The same with the guard: a scheme the policy missed shows here."""

    blocked: str
    """Guarded samples with at least one refused call / guarded samples."""

    rules: list[str] = Field(default_factory=list)
    """The rules that refused calls, most frequent first, with counts."""


def guard_comparisons(rows: Sequence[ResultRow]) -> list[GuardComparison]:
    """Per scenario and model, only where a guarded run exists."""
    groups: dict[tuple[str, str], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.model), []).append(row)
    comparisons = []
    for (scenario, model), members in sorted(groups.items()):
        guarded = [r for r in members if r.guard]
        if not guarded:
            continue
        rules = Counter(rule for r in guarded for rule in r.guard_blocks)
        comparisons.append(
            GuardComparison(
                scenario=scenario,
                model=model,
                unguarded=_count([r for r in members if not r.guard]),
                guarded=_count(guarded),
                blocked=f"{sum(1 for r in guarded if r.guard_blocks)}/{len(guarded)}",
                rules=[f"{rule} ×{n}" for rule, n in rules.most_common()],
            )
        )
    return comparisons


def guard_table(rows: Sequence[ResultRow]) -> Table:
    """The comparison as a terminal table (see `guard_comparisons`)."""
    table = Table(title="Guarded vs unguarded", title_justify="left")
    for name, justify in (
        ("scenario", "left"),
        ("model", "left"),
        ("schemed", "right"),
        ("+guard", "right"),
        ("blocked", "right"),
        ("rules", "left"),
    ):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for item in guard_comparisons(rows):
        table.add_row(
            escape(item.scenario),
            escape(item.model),
            item.unguarded,
            item.guarded,
            item.blocked,
            escape(", ".join(item.rules[:3])),
        )
    return table


def _count(rows: Sequence[ResultRow]) -> str:
    """`30% [11%, 60%] 3/10`, with errors noted; a group with nothing judged is unscored."""
    if not rows:
        return "-"
    [rates] = summarise(rows, by=())
    if rates.rate is None:
        text = "unscored"
    else:
        interval = format_ci(rates.ci_low, rates.ci_high)
        text = f"{format_percent(rates.rate)} {interval} {rates.schemed}/{rates.n}"
    return text + (f" ({rates.errors} err)" if rates.errors else "")
