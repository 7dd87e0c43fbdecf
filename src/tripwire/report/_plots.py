"""The report's figures of results judged apart from the scheming rates.

Sandbagging (accuracy in each incentive) and the guard (rates without and with it). Each
returns inline SVG through the report's `Plots`, or None when there is nothing to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from tripwire.results._row import ResultRow
from tripwire.stats import RateSummary, SandbaggingSummary, summarise

from ._guard import guarded_groups
from ._svg import Plots, interval_dot, plot_style

__all__ = ["guard_plot", "sandbagging_plot"]

# Okabe-Ito: blue for the incentive to do well, vermilion for the incentive to do badly.
_HIGH, _LOW = "#0072B2", "#D55E00"
_UNGUARDED, _GUARDED = "#555555", "#009E73"


def sandbagging_plot(summaries: Sequence[SandbaggingSummary], plots: Plots) -> Markup | None:
    """Mean accuracy when incentivised to do well and to do badly, per model × condition.

    A gap is what sandbagging looks like; the difference's bootstrap interval and the
    permutation test's p-value are written beside each pair. An unscored test is said
    so, never drawn as equal accuracies.
    """
    if not summaries:
        return None
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with plot_style():
        labels = [_group_label(s.model, s.condition) for s in summaries]
        figure = Figure(figsize=(8.5, 1.0 + 0.45 * len(summaries)), layout="constrained")
        ax = figure.subplots()
        for y, summary in enumerate(summaries):
            test = summary.test
            high, low = test.accuracy_high, test.accuracy_low
            if high is not None and low is not None:
                ax.plot([low * 100, high * 100], [y, y], color="#bbbbbb", linewidth=2, zorder=1)
            for value, colour in ((high, _HIGH), (low, _LOW)):
                if value is not None:
                    ax.plot(value * 100, y, "o", color=colour, markersize=7, zorder=2)
            ax.text(
                102,
                y,
                _test_text(summary),
                va="center",
                size=8,
                color=_test_colour(summary),
                in_layout=False,  # the x-limit leaves room for it
            )
        # Room right of 100% for the test's numbers.
        _percent_rows(ax, labels, "mean accuracy per setting", right=185)
        figure.legend(
            [Line2D([], [], marker="o", linestyle="", color=c) for c in (_HIGH, _LOW)],
            ["incentivised to do well", "incentivised to do badly"],
            loc="outside upper center",
            ncols=2,
            frameon=False,
        )
    return plots.add(figure, "sandbagging-accuracy", "sandbagging: accuracy by incentive")


def guard_plot(rows: Sequence[ResultRow], plots: Plots) -> Markup | None:
    """Scheming rate without and with the guard, per scenario × model that ran guarded."""
    pairs = _guard_pairs(rows)
    if not pairs:
        return None
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with plot_style():
        figure = Figure(figsize=(8.5, 1.0 + 0.6 * len(pairs)), layout="constrained")
        ax = figure.subplots()
        labels = []
        for y, (label, unguarded, guarded) in enumerate(pairs):
            labels.append(label)
            for offset, summary, colour in (
                (-0.15, unguarded, _UNGUARDED),
                (0.15, guarded, _GUARDED),
            ):
                if summary is None:
                    continue
                interval_dot(
                    ax,
                    y + offset,
                    summary.rate,
                    summary.ci_low,
                    summary.ci_high,
                    colour=colour,
                    counts=f"{summary.schemed}/{summary.n}",
                    errors=summary.errors,
                    unscored_colour="#9a6700",
                )
        _percent_rows(ax, labels, "scheming rate (dot) with 95% Wilson interval (bar)", right=122)
        figure.legend(
            [Line2D([], [], marker="o", color=c) for c in (_UNGUARDED, _GUARDED)],
            ["without the guard", "with the guard"],
            loc="outside upper center",
            ncols=2,
            frameon=False,
        )
    return plots.add(figure, "guarded-vs-unguarded", "scheming rates without and with the guard")


def _percent_rows(ax: Any, labels: list[str], xlabel: str, *, right: float) -> None:
    """A row per label (first on top) over a 0–100% axis, room for text up to `right`."""
    from matplotlib.ticker import PercentFormatter

    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(-2, right)
    ax.spines.bottom.set_bounds(0, 100)
    ax.set_xticks(range(0, 101, 20))
    ax.xaxis.set_major_formatter(PercentFormatter(100))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)


def _guard_pairs(
    rows: Sequence[ResultRow],
) -> list[tuple[str, RateSummary | None, RateSummary | None]]:
    pairs = []
    for (scenario, model), members in guarded_groups(rows):
        guarded = [r for r in members if r.guard]
        unguarded = [r for r in members if not r.guard]
        pairs.append(
            (
                f"{scenario}\n{model}",
                _pooled(unguarded),
                _pooled(guarded),
            )
        )
    return pairs


def _pooled(rows: list[ResultRow]) -> RateSummary | None:
    return summarise(rows, by=())[0] if rows else None


def _group_label(model: str, condition: str) -> str:
    return f"{model}\n{condition}" if condition else model


def _test_text(summary: SandbaggingSummary) -> str:
    test = summary.test
    errors = summary.errors_high + summary.errors_low
    tail = f", {errors} err" if errors else ""
    if test.difference is None or test.p_value is None:
        # The reason in full is in the table above; the figure says only that it is.
        return f"unscored (n={test.n_high}/{test.n_low}){tail}"
    interval = ""
    if test.ci_low is not None and test.ci_high is not None:
        interval = f" [{test.ci_low * 100:+.0f}, {test.ci_high * 100:+.0f}]"
    verdict = "sandbagged" if test.significant else "no significant gap"
    return (
        f"Δ {test.difference * 100:+.0f} pts{interval}, p={test.p_value:.3g}: {verdict}\n"
        f"n={test.n_high}/{test.n_low}{tail}"
    )


def _test_colour(summary: SandbaggingSummary) -> Any:
    test = summary.test
    if test.p_value is None:
        return "#9a6700"
    return "#b42318" if test.significant else "#555555"
