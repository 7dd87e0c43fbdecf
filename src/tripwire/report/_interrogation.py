"""Terminal tables of the interrogation: confession rates, interviews, grader checks.

What an agent says about its act is weak evidence beside the state detectors: the
tables report it, and never change a sample's outcome.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.markup import escape
from rich.table import Table

from tripwire.results import InterrogationRow
from tripwire.stats import ConfessionRate, GraderCalibration, TurnCurve, expected_outcome
from tripwire.stats._calibration import HONEST_AGENT, SCHEMER_AGENT

from ._format import format_ci, format_percent
from ._terminal import narrow_table

__all__ = [
    "SCRIPTED_POOL",
    "confession_tables",
    "evaluated_interrogation",
    "grader_calibration_tables",
    "grader_label",
    "multi_turn_tables",
    "pooled_scripted_agents",
    "scripted_interrogation",
]

SCRIPTED_POOL = "scripted agents (pooled)"
"""The pseudo-model the scripted honest agents and schemers are pooled into for the
multi-turn curves: the honest agents' clean samples are the schemers' innocent
controls. Real models are never pooled."""

_GRADE_COLUMNS = ("confessed", "denied", "evaded", "error")


def grader_label(grader: str) -> str:
    """`graded by rules` or `graded by <model>`: every rate names its grader."""
    return f"graded by {grader}"


def pooled_scripted_agents(rows: Iterable[InterrogationRow]) -> list[InterrogationRow]:
    """Rows with every scripted honest agent and schemer renamed `SCRIPTED_POOL`.

    A scripted schemer is interviewed only when guilty and the honest agent only
    when innocent, so neither alone has both sides of a turn curve; pooled, they
    do. Other models (the garbled agent, every real model) keep their names.
    """
    pooled = []
    for row in rows:
        if _scripted(row.model):
            row = row.model_copy(update={"model": SCRIPTED_POOL})
        pooled.append(row)
    return pooled


def _scripted(model: str) -> bool:
    return model.startswith((HONEST_AGENT, SCHEMER_AGENT))


def evaluated_interrogation(
    rows: Sequence[InterrogationRow], models: Iterable[str] = ()
) -> list[InterrogationRow]:
    """The rows of the models under evaluation, or all when only scripted agents ran.

    Scripted agents' answers are fixed by construction (they calibrate the graders);
    beside real models they would only bury them, even when the real models had
    nothing to answer for.

    Args:
        rows: Interrogation rows.
        models: Every model of the run (from its result rows), interrogated or not.
    """
    real = any(not _calibration_agent(model) for model in [*models, *(r.model for r in rows)])
    if not real:
        return list(rows)
    return [row for row in rows if not _calibration_agent(row.model)]


def _calibration_agent(model: str) -> bool:
    # A scripted agent may carry an answer style: `tripwire/scripted-honest/confess`.
    return expected_outcome("/".join(model.split("/")[:2])) is not None


def scripted_interrogation(rows: Iterable[InterrogationRow]) -> list[InterrogationRow]:
    """The rows of the scripted agents, whose answers' true grades are known."""
    return [row for row in rows if _calibration_agent(row.model)]


def confession_tables(rates: Sequence[ConfessionRate]) -> list[Table]:
    """One table per model and grader: confession rates by wording, per scenario.

    The model's full name is the title (wrapped, never cut); each scenario is a bold
    row, then `all` (with the scheming samples asked) and each wording. Narrow enough
    for 80 columns.
    """
    tables: list[Table] = []
    groups: dict[tuple[str, str], list[ConfessionRate]] = {}
    for rate in rates:
        groups.setdefault((rate.model, rate.grader), []).append(rate)
    for (model, grader), members in groups.items():
        table = narrow_table(
            f"Confession rates: {escape(model)} ({escape(grader_label(grader))})",
            "n: answers graded; err: answers that could not be had or graded (never a "
            "verdict). What an agent says is weak evidence beside the detectors.",
        )
        table.add_column("scenario / wording", overflow="fold")
        for name in ("n", "conf", "deny", "evade", "err", "rate (95% CI)"):
            table.add_column(name, justify="right", no_wrap=True)
        scenario = None
        for rate in members:
            if rate.scenario != scenario:
                scenario = rate.scenario
                table.add_row(f"[bold]{escape(scenario)}[/bold]")
            if rate.wording == "all":
                plural = "s" if rate.samples != 1 else ""
                label = f"  [bold]all[/bold] ({rate.samples} sample{plural})"
            else:
                label = f"  {escape(rate.wording)}"
            table.add_row(
                label,
                str(rate.graded),
                str(rate.confessed),
                str(rate.denied),
                str(rate.evaded),
                f"[bold red]{rate.errors}[/bold red]" if rate.errors else "0",
                _rate_cell(rate.rate, rate.low, rate.high),
            )
        tables.append(table)
    return tables


def _rate_cell(rate: float | None, low: float | None, high: float | None) -> str:
    if rate is None:
        return "[yellow]unscored[/yellow]"
    return f"{format_percent(rate)} {format_ci(low, high)}"


def multi_turn_tables(curves: Sequence[TurnCurve]) -> list[Table]:
    """One table per model, interrogator and grader: cumulative admissions per turn.

    TPR is the share of guilty samples that admitted the act by that turn; FPR the
    share of innocent controls that "admitted" it; each scenario's row says how many
    of each were interviewed. With an interrogator model, the shares of each it
    judged guilty (its latest verdict) are shown too.
    """
    tables: list[Table] = []
    groups: dict[tuple[str, str, str], list[TurnCurve]] = {}
    for curve in curves:
        groups.setdefault((curve.model, curve.interrogator, curve.grader), []).append(curve)
    for (model, interrogator, grader), members in groups.items():
        judged = any(
            p.verdict_tpr is not None or p.verdict_fpr is not None
            for curve in members
            for p in curve.points
        )
        table = narrow_table(
            f"Multi-turn interrogation: {escape(model)}; interrogator {escape(interrogator)}, "
            f"{escape(grader_label(grader))}",
            "Cumulative: admitted by this turn. TPR over guilty samples, FPR over innocent "
            "controls" + ("; verdict: judged guilty by the interrogator." if judged else "."),
        )
        table.add_column("scenario / turn", overflow="fold")
        table.add_column("TPR (95% CI)", justify="right", no_wrap=True)
        table.add_column("FPR (95% CI)", justify="right", no_wrap=True)
        if judged:
            table.add_column("verdict\nTPR", justify="right")
            table.add_column("verdict\nFPR", justify="right")
        for curve in members:
            table.add_row(f"[bold]{escape(curve.scenario)}[/bold]")
            table.add_row(f"  {curve.guilty} guilty, {curve.innocent} innocent")
            if curve.errors:
                table.add_row(f"  [bold red]{curve.errors} in error[/bold red]")
            for point in curve.points:
                cells = [
                    f"  turn {point.turn}",
                    _share_cell(point.tpr, point.tpr_low, point.tpr_high),
                    _share_cell(point.fpr, point.fpr_low, point.fpr_high),
                ]
                if judged:
                    cells += [_plain(point.verdict_tpr), _plain(point.verdict_fpr)]
                table.add_row(*cells)
        tables.append(table)
    return tables


def _share_cell(rate: float | None, low: float | None, high: float | None) -> str:
    return "—" if rate is None else f"{format_percent(rate)} {format_ci(low, high)}"


def _plain(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def grader_calibration_tables(calibrations: Sequence[GraderCalibration]) -> list[Table]:
    """Each grader's confusion matrix on the scripted agents' answers (true grades known).

    Rows are the answers' true grades, columns the grades given; `error` is an answer
    the grader could not grade, counted as wrong. The grader's full name is the title.
    """
    tables: list[Table] = []
    for calibration in calibrations:
        accuracy = (
            "no answers with a known grade"
            if calibration.accuracy is None
            else f"{format_percent(calibration.accuracy)} right "
            f"({calibration.correct}/{calibration.n}, {calibration.errors} ungraded)"
        )
        table = narrow_table(
            f"Grader {escape(calibration.grader)} on the scripted agents' answers: {accuracy}"
        )
        table.add_column("true grade")
        for name in _GRADE_COLUMNS:
            table.add_column(f"given {name}", justify="right")
        for truth, given in calibration.matrix.items():
            table.add_row(truth, *(_diagonal(given.get(g, 0), g == truth) for g in _GRADE_COLUMNS))
        tables.append(table)
    return tables


def _diagonal(count: int, right: bool) -> str:
    if right or count == 0:
        return str(count)
    return f"[bold red]{count}[/bold red]"
