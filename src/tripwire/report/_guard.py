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
from ._terminal import narrow_table

__all__ = ["GuardComparison", "guard_comparisons", "guard_table", "guarded_groups"]


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


def guarded_groups(
    rows: Sequence[ResultRow],
) -> list[tuple[tuple[str, str], list[ResultRow]]]:
    """Rows by (scenario, model), only the groups with a guarded run, sorted."""
    groups: dict[tuple[str, str], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.model), []).append(row)
    return [
        (key, members) for key, members in sorted(groups.items()) if any(r.guard for r in members)
    ]


def guard_comparisons(rows: Sequence[ResultRow]) -> list[GuardComparison]:
    """Per scenario and model, only where a guarded run exists."""
    comparisons = []
    for (scenario, model), members in guarded_groups(rows):
        guarded = [r for r in members if r.guard]
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
    """The comparison as a terminal table (see `guard_comparisons`).

    Each model's full name heads its block and each scenario is a row under it, with
    the rules that refused calls on a line of their own: nothing is cut at 80 columns.
    """
    table = narrow_table("Guarded vs unguarded")
    table.add_column("model / scenario", overflow="fold")
    table.add_column("schemed", justify="right", overflow="fold")
    table.add_column("+guard", justify="right", overflow="fold")
    table.add_column("blocked", justify="right", no_wrap=True)
    model = None
    for item in sorted(guard_comparisons(rows), key=lambda c: (c.model, c.scenario)):
        if item.model != model:
            if model is not None:
                table.add_section()
            model = item.model
            table.add_row(f"[bold]{escape(model)}[/bold]")
        table.add_row(f"  {escape(item.scenario)}", item.unguarded, item.guarded, item.blocked)
        if item.rules:
            table.add_row(f"    [dim]refused by {escape(', '.join(item.rules[:3]))}[/dim]")
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
