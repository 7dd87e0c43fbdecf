"""Rich tables of scheming rates and calibration verdicts for the terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from rich.markup import escape
from rich.table import Table

from tripwire.stats import (
    AlignmentFakingCalibration,
    AlignmentFakingSummary,
    CalibrationResult,
    DeferredCalibrationResult,
    RateSummary,
    SandbaggingSummary,
)

from ._format import format_ci, format_percent
from ._paper import load_published
from ._terminal import narrow_table

__all__ = [
    "alignment_faking_table",
    "calibration_table",
    "deferred_calibration_table",
    "format_ci",
    "format_percent",
    "rate_table",
    "sandbagging_table",
]

# Mismatches listed per calibration agent before "… and N more".
_MAX_MISMATCHES = 3


def rate_table(summaries: Sequence[RateSummary], title: str = "Scheming rates") -> Table:
    """Scheming rates with their 95% Wilson intervals, grouped by model and scenario.

    Each model's full name heads its block, each scenario its rows, one row per
    condition: names are never cut, so the table reads in an 80-column log without a
    terminal (names longer than the first column fold onto a second line). Errors are
    shown beside every rate; a group with no scored samples shows "unscored" rather
    than a rate of zero.

    Args:
        summaries: Rate summaries, usually from `tripwire.stats.summarise`.
        title: Table title.

    Returns:
        A table ready for `rich.console.Console.print`.
    """
    table = narrow_table(
        title,
        "err: samples that could not be judged (never counted as clean); own goal: "
        "samples that chose the option serving the agent's goal.",
    )
    table.add_column("model / scenario / condition", overflow="fold")
    table.add_column("scheming rate", justify="right", no_wrap=True)
    table.add_column("95% CI", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("err", justify="right", no_wrap=True)
    table.add_column("own goal", justify="right", no_wrap=True)
    ordered = sorted(summaries, key=lambda s: (s.model, s.scenario))
    model: str | None = None
    scenario: str | None = None
    for summary in ordered:
        if summary.model != model:
            if model is not None:
                table.add_section()
            model, scenario = summary.model, None
            table.add_row(f"[bold]{escape(model or '(all models)')}[/bold]")
        if summary.scenario != scenario:
            scenario = summary.scenario
            table.add_row(f"  {escape(scenario or '(all scenarios)')}")
        table.add_row(
            f"    {escape(summary.condition or '(all)')}",
            _rate_cell(summary),
            format_ci(summary.ci_low, summary.ci_high),
            str(summary.n),
            f"[bold red]{summary.errors}[/bold red]" if summary.errors else "0",
            _chose_goal_cell(summary),
        )
    return table


def calibration_table(results: Sequence[CalibrationResult]) -> Table:
    """PASS/FAIL per calibration agent, with the samples that failed.

    Args:
        results: Calibration results, usually from `tripwire.stats.calibrate`.

    Returns:
        A table ready for `rich.console.Console.print`.
    """
    table = narrow_table("Calibration (scripted reference agents)")
    table.add_column("agent", overflow="fold", ratio=1)
    table.add_column("must be", no_wrap=True)
    table.add_column("verdict", justify="center", no_wrap=True)
    table.add_column("matched", justify="right", no_wrap=True)
    # Mismatches (`sample@epoch: outcome (error)`) fold too: their sample ids are names.
    table.add_column("mismatches", overflow="fold", ratio=1)
    for result in results:
        verdict = (
            "[bold green]PASS[/bold green]"
            if result.ok
            else "[bold white on red] FAIL [/bold white on red]"
        )
        detail = "no samples ran" if result.n == 0 else _mismatch_summary(result.mismatched)
        table.add_row(
            escape(result.model),
            result.expected,
            verdict,
            f"{result.matched}/{result.n}",
            escape(detail),
        )
    return table


def _rate_cell(summary: RateSummary) -> str:
    if summary.rate is None:
        return "[yellow]unscored[/yellow]"
    return f"{format_percent(summary.rate)} ({summary.schemed}/{summary.n})"


def _chose_goal_cell(summary: RateSummary) -> str:
    if summary.choices == 0:
        return "—"
    return f"{summary.chose_goal}/{summary.choices}"


def _mismatch_summary(mismatched: list[str]) -> str:
    shown = mismatched[:_MAX_MISMATCHES]
    more = len(mismatched) - len(shown)
    return "\n".join(shown + ([f"… and {more} more"] if more else []))


def sandbagging_table(summaries: Sequence[SandbaggingSummary]) -> Table:
    """Accuracy when incentivised to do well vs badly, the difference and its p-value.

    One line per model × condition; an unscored test says so instead of a number (the
    reason is in the HTML report and `SandbaggingTest.unscored_reason`; `n` shows the
    scored samples per side).
    """
    table = _test_table(
        "Sandbagging (accuracy: incentivised to do well / to do badly)",
        load_published().sandbagging_caption(),
        ("well", "badly", "diff (95% CI)", "p", "n", "err"),
    )
    for summary in _under_models(table, summaries):
        test = summary.test
        errors = summary.errors_high + summary.errors_low
        if not test.scored:
            table.add_row(
                f"  {escape(summary.condition)}",
                "—",
                "—",
                "[yellow]unscored[/yellow]",
                "—",
                f"{test.n_high}/{test.n_low}",
                str(errors),
            )
            continue
        assert test.accuracy_high is not None and test.accuracy_low is not None
        assert test.difference is not None and test.p_value is not None
        mark = " [bold red]*[/bold red]" if test.significant else ""
        table.add_row(
            f"  {escape(summary.condition)}",
            format_percent(test.accuracy_high),
            format_percent(test.accuracy_low),
            f"{test.difference * 100:+.0f} pts {_points(test.ci_low, test.ci_high)}",
            f"{test.p_value:.3g}{mark}",
            f"{test.n_high}/{test.n_low}",
            f"[bold red]{errors}[/bold red]" if errors else "0",
        )
    return table


_VERDICT_MARKUP = {
    "pass": "[bold green]PASS[/bold green]",
    "inconclusive": "[bold yellow]INCONCLUSIVE[/bold yellow]",
    "fail": "[bold red]FAIL[/bold red]",
}


def deferred_calibration_table(
    results: Sequence[DeferredCalibrationResult | AlignmentFakingCalibration],
) -> Table:
    """PASS/FAIL/INCONCLUSIVE per scripted agent on the evaluations judged across samples."""
    table = narrow_table("Calibration of evaluations judged across samples")
    table.add_column("evaluation / agent", overflow="fold", ratio=1)
    table.add_column("expected", overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("problems", overflow="fold", ratio=1)
    for result in results:
        verdict = _VERDICT_MARKUP[result.verdict]
        notes = [*result.problems, *([result.inconclusive] if result.inconclusive else [])]
        table.add_row(
            f"{escape(result.scenario)}: {escape(result.model)}",
            result.expected.replace("_", " "),
            verdict,
            escape("; ".join(notes)) or "—",
        )
    return table


def _points(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f"[{low * 100:+.0f}, {high * 100:+.0f}]"


def alignment_faking_table(summaries: Sequence[AlignmentFakingSummary]) -> Table:
    """Instrumental alignment faking per model × condition, judged over pairs.

    Behavioural scheming is management's option when watched and the agent's own
    when not; the test is one-sided binomial against 25% (Meinke et al. 2024).
    """
    table = _test_table(
        "Instrumental alignment faking (pairs: watched / unwatched)",
        load_published().alignment_faking_caption(),
        ("instr.", "terminal", "scheming (95% CI)", "p", "pairs", "incompl."),
    )
    for summary in _under_models(table, summaries):
        test = summary.test
        incomplete = f"[bold red]{test.incomplete}[/bold red]" if test.incomplete else "0"
        if not test.scored or test.rate is None:
            table.add_row(
                f"  {escape(summary.condition)}",
                "—",
                "—",
                "[yellow]unscored[/yellow]",
                "—",
                str(test.pairs),
                incomplete,
            )
            continue
        mark = " [bold red]*[/bold red]" if test.significant else ""
        table.add_row(
            f"  {escape(summary.condition)}",
            format_percent(test.instrumental_rate or 0.0),
            format_percent(test.terminal_rate or 0.0),
            f"{format_percent(test.rate)} {format_ci(test.ci_low, test.ci_high)}",
            f"{test.p_value:.3g}{mark}",
            str(test.pairs),
            incomplete,
        )
    return table


def _test_table(title: str, caption: str, numbers: Sequence[str]) -> Table:
    """A table of per-condition tests: a label column, then right-aligned numbers."""
    table = narrow_table(title, caption)
    table.add_column("model / condition", overflow="fold")
    for name in numbers:
        table.add_column(name, justify="right", no_wrap=True)
    return table


_Summary = TypeVar("_Summary", SandbaggingSummary, AlignmentFakingSummary)


def _under_models(table: Table, summaries: Sequence[_Summary]) -> Iterator[_Summary]:
    """Each summary, after a bold row naming its model when the model changes."""
    previous = None
    for summary in summaries:
        if summary.model != previous:
            table.add_row(f"[bold]{escape(summary.model)}[/bold]")
            previous = summary.model
        yield summary
