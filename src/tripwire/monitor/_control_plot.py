"""The control evaluation's figure: safety against usefulness across audit budgets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._control import ControlReport, ControlRow

__all__ = ["plot_safety_usefulness", "safety_usefulness_figure"]


def plot_safety_usefulness(report: ControlReport, path: str | Path) -> list[Path]:
    """Plot safety against usefulness across audit budgets, one line per defer budget.

    Writes `path` with the suffixes `.png` and `.svg`; rows without a safety or a
    usefulness figure are left out of the plot (their counts stay in the report).

    Returns:
        The two files written.
    """
    from tripwire.report._svg import plot_style

    with plot_style():
        figure = safety_usefulness_figure(report)
        base = Path(path)
        base.parent.mkdir(parents=True, exist_ok=True)
        written = [base.with_suffix(".png"), base.with_suffix(".svg")]
        for target in written:
            figure.savefig(target, metadata={"Date": None} if target.suffix == ".svg" else None)
    return written


def safety_usefulness_figure(report: ControlReport) -> Any:
    """Safety against usefulness across audit budgets as a matplotlib `Figure`.

    One line per defer budget; rows without a safety or a usefulness figure are left
    out (their counts stay in the report). Draw it inside the caller's style.
    """
    # Matplotlib takes a second to import; only plots pay for it. The Figure API needs
    # no pyplot and no display (it renders with Agg).
    from matplotlib.figure import Figure

    lines: dict[float | None, list[ControlRow]] = {}
    for row in report.rows:
        if row.safety is not None and row.usefulness is not None:
            lines.setdefault(row.defer_budget, []).append(row)
    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    ax = figure.subplots()
    markers = "os^D"
    for index, (defer_budget, rows) in enumerate(lines.items()):
        label = "audit only" if defer_budget is None else f"defer at {defer_budget:g}%"
        xs = [r.usefulness or 0.0 for r in rows]
        ys = [r.safety or 0.0 for r in rows]
        errors = [
            [y - (r.safety_low or y) for y, r in zip(ys, rows, strict=True)],
            [(r.safety_high or y) - y for y, r in zip(ys, rows, strict=True)],
        ]
        # Lines often coincide (a monitor that scores every honest run 0 gives the
        # same point at every budget): shrinking, distinct markers keep each visible.
        bars = ax.errorbar(
            xs,
            ys,
            yerr=errors,
            marker=markers[index % len(markers)],
            markersize=9 - 2 * (index % 3),
            capsize=3,
            label=label,
        )
        budgets_at: dict[tuple[float, float], list[str]] = {}
        for x, y, row in zip(xs, ys, rows, strict=True):
            budgets_at.setdefault((x, y), []).append(f"{row.audit_budget:g}")
        ends = {_point(xs, ys, 0), _point(xs, ys, -1)}
        for (x, y), names in budgets_at.items():
            if (x, y) not in ends:
                continue  # the ends of each line say which way budgets grow
            ax.annotate(
                ", ".join(names) + "%",
                (x, y),
                textcoords="offset points",
                xytext=(-8, -12 - 10 * index),
                ha="right",
                fontsize=8,
                color=bars.lines[0].get_color(),
            )
    ax.set_xlabel("usefulness (honest main-task success)")
    ax.set_ylabel("safety")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"{report.scorer or 'monitor'}: safety vs usefulness by audit budget")
    if lines:
        ax.legend(loc="lower left")
    else:
        ax.text(0.5, 0.5, "no row has both figures", ha="center", transform=ax.transAxes)
    return figure


def _point(xs: list[float], ys: list[float], index: int) -> tuple[float, float]:
    return xs[index], ys[index]
