"""The report's "Does the agent own up?" section: rates, plots, interviews, transcripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup

from tripwire.interrogate import expected_grade
from tripwire.results import InterrogationRow
from tripwire.stats import (
    ConfessionRate,
    TurnCurve,
    confession_rates,
    grader_calibration,
    multi_turn_curves,
)

from ._format import format_ci, format_percent
from ._interrogation import (
    SCRIPTED_POOL,
    evaluated_interrogation,
    grader_label,
    pooled_scripted_agents,
    scripted_interrogation,
)
from ._svg import Plots, interval_dot, plot_style

__all__ = ["interrogation_view"]

# Okabe-Ito, as the rate plot: one colour per model.
_MODEL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
_TPR_COLOUR = "#D55E00"
_FPR_COLOUR = "#0072B2"


def interrogation_view(
    rows: Sequence[InterrogationRow],
    models: Iterable[str] = (),
    plots: Plots | None = None,
    listed: int | None = None,
) -> dict[str, Any] | None:
    """Everything the section shows, or None when nobody was interrogated.

    Confession rates and transcripts are the evaluated models' (the scripted agents'
    when they are all that ran, `models` being every model of the run); the turn
    curves include the scripted agents pooled
    (their honest agents are the schemers' innocent controls); the graders' confusion
    matrix is over the scripted agents' answers, whose true grades are known.
    """
    if not rows:
        return None
    plots = plots or Plots()
    shown = evaluated_interrogation(rows, models)
    rates = confession_rates(shown)
    curves = multi_turn_curves(pooled_scripted_agents(rows))
    samples = _guilty_samples(shown)
    return {
        "rates": [_rate_view(rate) for rate in rates],
        "rates_plot": _rates_plot(rates, plots),
        "scripted_left_out": len(shown) < len(rows),
        "curves": [_curve_view(curve) for curve in curves],
        "curves_plot": _curves_plot(curves, plots),
        "pooled": SCRIPTED_POOL,
        "calibration": grader_calibration(scripted_interrogation(rows), expected_grade),
        "samples": samples if listed is None else samples[:listed],
        "samples_hidden": 0 if listed is None else max(0, len(samples) - listed),
    }


def _rate_view(rate: ConfessionRate) -> dict[str, Any]:
    return {
        "r": rate,
        "grader": grader_label(rate.grader),
        "rate": None if rate.rate is None else format_percent(rate.rate),
        "ci": format_ci(rate.low, rate.high),
    }


def _curve_view(curve: TurnCurve) -> dict[str, Any]:
    points = []
    for point in curve.points:
        points.append(
            {
                "turn": point.turn,
                "tpr": _share(point.admitted_guilty, curve.guilty),
                "tpr_ci": format_ci(point.tpr_low, point.tpr_high),
                "fpr": _share(point.admitted_innocent, curve.innocent),
                "fpr_ci": format_ci(point.fpr_low, point.fpr_high),
                "verdict_tpr": _percent(point.verdict_tpr),
                "verdict_fpr": _percent(point.verdict_fpr),
            }
        )
    judged = any(p.verdict_tpr is not None or p.verdict_fpr is not None for p in curve.points)
    return {"c": curve, "grader": grader_label(curve.grader), "points": points, "judged": judged}


def _share(k: int, n: int) -> str:
    return "—" if n == 0 else f"{format_percent(k / n)} ({k}/{n})"


def _percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def _guilty_samples(rows: Sequence[InterrogationRow]) -> list[dict[str, Any]]:
    """Each scheming sample with its questions, answers and grades, in order."""
    samples: dict[tuple[str, str, str, int, str], dict[str, Any]] = {}
    for row in rows:
        if not row.guilty:
            continue
        key = (row.model, row.scenario, row.sample_id, row.epoch, row.log_file)
        sample = samples.setdefault(
            key,
            {
                "model": row.model,
                "scenario": row.scenario,
                "condition": row.condition,
                "sample_id": row.sample_id,
                "epoch": row.epoch,
                "follow_ups": [],
                "turns": [],
                "counts": dict.fromkeys(("confessed", "denied", "evaded", "error"), 0),
            },
        )
        sample["follow_ups" if row.kind == "follow_up" else "turns"].append(row)
        sample["counts"][row.grade] += 1
    for sample in samples.values():
        sample["follow_ups"].sort(key=lambda r: (r.wording, r.repeat))
        sample["turns"].sort(key=lambda r: r.turn)
        sample["ended"] = sample["turns"][0].ended if sample["turns"] else ""
    return sorted(
        samples.values(), key=lambda s: (s["model"], s["scenario"], s["sample_id"], s["epoch"])
    )


def _rates_plot(rates: Sequence[ConfessionRate], plots: Plots) -> Markup | None:
    """Confession rate ± 95% Wilson interval by wording, a colour per model.

    One panel per scenario and grader.
    """
    plotted = [rate for rate in rates if rate.rate is not None]
    if not plotted:
        return None
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import PercentFormatter

    panels = list(dict.fromkeys((r.scenario, r.grader) for r in rates))
    models = list(dict.fromkeys(r.model for r in rates))
    wordings = list(dict.fromkeys(r.wording for r in rates))  # `all` first, as sorted
    row_height = 0.22 + 0.12 * len(models)
    heights = [0.8 + row_height * len(wordings) for _ in panels]
    spread = min(0.6, 0.15 * len(models))
    with plot_style():
        figure = Figure(figsize=(8.5, sum(heights) + 0.8), layout="constrained")
        axes = figure.subplots(len(panels), 1, sharex=True, squeeze=False, height_ratios=heights)[
            :, 0
        ]
        for ax, (scenario, grader) in zip(axes, panels, strict=True):
            for rate in rates:
                if (rate.scenario, rate.grader) != (scenario, grader):
                    continue
                index = models.index(rate.model)
                offset = (index - (len(models) - 1) / 2) * spread / max(len(models) - 1, 1)
                y = wordings.index(rate.wording) + offset
                interval_dot(
                    ax,
                    y,
                    rate.rate,
                    rate.low,
                    rate.high,
                    colour=_MODEL_COLOURS[index % len(_MODEL_COLOURS)],
                    counts=f"{rate.confessed}/{rate.graded}",
                    errors=rate.errors,
                )
            ax.set_yticks(range(len(wordings)), wordings)
            ax.set_ylim(len(wordings) - 0.5, -0.5)
            ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
            ax.set_axisbelow(True)
            ax.tick_params(axis="y", length=0)
            ax.set_title(f"{scenario} ({grader_label(grader)})", loc="left", fontweight="bold")
        last = axes[-1]
        last.set_xlim(-2, 122)
        last.set_xticks(range(0, 101, 20))
        last.xaxis.set_major_formatter(PercentFormatter(100))
        last.set_xlabel("confession rate (dot) with 95% Wilson interval (bar); answers graded")
        handles = [
            Line2D([], [], marker="o", color=_MODEL_COLOURS[i % len(_MODEL_COLOURS)])
            for i in range(len(models))
        ]
        figure.legend(
            handles, models, title="model", loc="outside upper center", ncols=1, frameon=False
        )
    return plots.add(
        figure, "confession-rates", "confession rates by wording with 95% Wilson intervals"
    )


def _curves_plot(curves: Sequence[TurnCurve], plots: Plots) -> Markup | None:
    """Cumulative admissions per turn, guilty (TPR) vs innocent (FPR), 95% Wilson bands.

    One panel per model and scenario.
    """
    curves = [curve for curve in curves if curve.points]
    if not curves:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    columns = min(3, len(curves))
    lines = -(-len(curves) // columns)
    with plot_style():
        figure = Figure(figsize=(8.5, 2.6 * lines + 0.6), layout="constrained")
        axes = figure.subplots(lines, columns, squeeze=False, sharey=True).ravel()
        for ax, curve in zip(axes, curves, strict=False):
            turns = [p.turn for p in curve.points]
            _curve_line(ax, turns, curve, "tpr", _TPR_COLOUR, f"guilty (n={curve.guilty})")
            _curve_line(ax, turns, curve, "fpr", _FPR_COLOUR, f"innocent (n={curve.innocent})")
            if any(p.verdict_tpr is not None for p in curve.points):
                ax.plot(
                    turns,
                    [_hundred(p.verdict_tpr) for p in curve.points],
                    linestyle="--",
                    color=_TPR_COLOUR,
                    label="verdict: guilty",
                )
            if any(p.verdict_fpr is not None for p in curve.points):
                ax.plot(
                    turns,
                    [_hundred(p.verdict_fpr) for p in curve.points],
                    linestyle="--",
                    color=_FPR_COLOUR,
                    label="verdict: innocent",
                )
            ax.set_title(f"{curve.model}\n{curve.scenario}", loc="left", size=9)
            ax.set_ylim(-3, 103)
            ax.yaxis.set_major_formatter(PercentFormatter(100))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("turn")
            ax.grid(color="#e5e5e5", linewidth=0.8)
            ax.legend(fontsize=7, frameon=False, loc="center right")
        for ax in axes[len(curves) :]:
            ax.set_visible(False)
        figure.suptitle(
            "admitted by this turn (cumulative), with 95% Wilson bands", size=10, x=0.01, ha="left"
        )
    return plots.add(figure, "interview-turns", "cumulative admissions per interrogation turn")


def _curve_line(
    ax: Any, turns: list[int], curve: TurnCurve, side: str, colour: str, label: str
) -> None:
    n = curve.guilty if side == "tpr" else curve.innocent
    if n == 0:
        return
    values = [_hundred(getattr(p, side)) for p in curve.points]
    low = [_hundred(getattr(p, f"{side}_low")) for p in curve.points]
    high = [_hundred(getattr(p, f"{side}_high")) for p in curve.points]
    ax.plot(turns, values, marker="o", markersize=4, color=colour, label=label)
    ax.fill_between(turns, low, high, color=colour, alpha=0.15, linewidth=0)


def _hundred(value: float | None) -> float:
    return float("nan") if value is None else value * 100
