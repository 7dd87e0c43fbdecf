"""A terminal table of what agents' own words mention, beside the detectors' verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from rich.markup import escape
from rich.table import Table

from tripwire.results import ResultRow
from tripwire.stats import PATTERNS_SOURCE, ReasoningRate, expected_outcome, reasoning_rates

from ._format import format_ci, format_percent

__all__ = ["reasoning_table", "shown_reasoning_rates"]

_CAPTION = (
    "Weak evidence: what the agent wrote during the episode, not what it did. Share of "
    "samples whose words mention each category, with its 95% Wilson interval; read by "
    "tripwire's pattern sets (negated mentions skipped) or by the grader model named."
)

# Fixed widths, so every block of a table lines up: "eval-awareness", "100% (999/999)",
# "[100%, 100%]".
_WIDTHS = (14, 14, 12)


def shown_reasoning_rates(rows: Sequence[ResultRow], *, interrogated: bool) -> list[ReasoningRate]:
    """The mention rates a run's tables and report show; empty when there are none to show.

    Shown when the run interrogated its agents, or when any words were read by a grader
    or mentioned a category; the evaluated models' only, unless only scripted agents ran.
    """
    evaluated = [row for row in rows if expected_outcome(row.model) is None] or list(rows)
    read = any(row.reasoning or row.reasoning_grader for row in evaluated)
    if not evaluated or not (interrogated or read):
        return []
    return reasoning_rates(evaluated)


def reasoning_table(
    rates: Sequence[ReasoningRate], title: str = "Reasoning mentions (weak evidence)"
) -> Table:
    """Mention rates with 95% Wilson intervals, grouped by model under its full name.

    Under each model, each scenario; under it each reader (`patterns`, or a grader
    model with the samples it could not grade) and its four categories. Fits 80
    columns: names are headings on lines of their own, and wrap only if longer.

    Args:
        rates: Rates, usually from `tripwire.stats.reasoning_rates`.
        title: Table title.

    Returns:
        A table ready for `rich.console.Console.print`.
    """
    table = Table.grid()
    table.title = title
    table.title_justify = "left"
    table.caption = _CAPTION
    table.caption_justify = "left"
    table.add_column()
    if not rates:
        table.add_row("[yellow]no samples[/yellow]")
    # Stable: each reader's categories keep their order.
    ordered = sorted(
        rates, key=lambda r: (r.model, r.scenario, r.source != PATTERNS_SOURCE, r.source)
    )
    for model, by_model in groupby(ordered, key=lambda r: r.model):
        table.add_row(f"[bold]{escape(model)}[/bold]")
        for scenario, by_scenario in groupby(by_model, key=lambda r: r.scenario):
            table.add_row(f"  {escape(scenario)}")
            for source, by_source in groupby(by_scenario, key=lambda r: r.source):
                members = list(by_source)
                table.add_row(f"    {_source_heading(source, members[0])}")
                table.add_row(_categories(members))
        table.add_row("")
    return table


def _source_heading(source: str, rate: ReasoningRate) -> str:
    read = "graded" if rate.source != PATTERNS_SOURCE else _plural(rate.samples, "sample")
    errors = ""
    if rate.source != PATTERNS_SOURCE:
        errors = f", {rate.errors} {_plural(rate.errors, 'error')}"
        errors = f"[bold red]{errors}[/bold red]" if rate.errors else errors
    return f"[italic]{escape(source)}[/italic] ({rate.samples} {read}{errors})"


def _plural(n: int, noun: str) -> str:
    return noun if n == 1 else noun + "s"


def _categories(rates: list[ReasoningRate]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(width=4)
    for width in _WIDTHS:
        grid.add_column(min_width=width, no_wrap=True)
    grid.columns[2].justify = "right"
    grid.columns[3].justify = "right"
    for rate in rates:
        grid.add_row("", rate.category, _rate_cell(rate), format_ci(rate.low, rate.high))
    return grid


def _rate_cell(rate: ReasoningRate) -> str:
    if rate.rate is None:
        return "[yellow]unscored[/yellow]"
    return f"{format_percent(rate.rate)} ({rate.hits}/{rate.samples})"
