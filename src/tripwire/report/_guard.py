"""The guarded-vs-unguarded comparison: what the guard stopped, per scenario and model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from tripwire.results import ResultRow

__all__ = ["guard_table"]


def guard_table(rows: Sequence[ResultRow]) -> Table:
    """Per scenario and model: scheming unguarded vs guarded, and runs the guard blocked.

    A guarded run that schemed anyway is the number to watch: the policy missed it.
    """
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
    groups: dict[tuple[str, str], list[ResultRow]] = {}
    for row in rows:
        groups.setdefault((row.scenario, row.model), []).append(row)
    for (scenario, model), members in sorted(groups.items()):
        plain = [r for r in members if not r.guard]
        guarded = [r for r in members if r.guard]
        rules = Counter(rule for r in guarded for rule in r.guard_blocks)
        table.add_row(
            escape(scenario),
            escape(model),
            _count(plain),
            _count(guarded),
            f"{sum(1 for r in guarded if r.guard_blocks)}/{len(guarded)}",
            escape(", ".join(f"{rule}×{n}" for rule, n in rules.most_common(3))),
        )
    return table


def _count(rows: Sequence[ResultRow]) -> str:
    if not rows:
        return "-"
    judged = [r for r in rows if r.outcome != "error"]
    errors = len(rows) - len(judged)
    text = f"{sum(r.outcome == 'schemed' for r in judged)}/{len(judged)}"
    return text + (f" ({errors} err)" if errors else "")
