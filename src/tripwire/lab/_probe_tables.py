"""The lab's probe tables on screen: the protocol per stage, each contrast pair, the papers.

Every AUROC here is on the scoring split at the layer chosen on the selection split
(`_probe_layers`); a number that could not be computed says "not measured".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from tripwire.report import format_percent

from ._paper import ComparisonRow, Rate, our_rows, published_rows
from ._probe import LAST_PROMPT_TOKEN, PASS_PERCENTILE, ProbeReport

if TYPE_CHECKING:
    from ._report import LabSummary

__all__ = ["format_rate", "pair_table", "paper_table", "probe_table", "verdict"]

NOT_MEASURED = "not measured"


def probe_table(summary: LabSummary) -> Table:
    """Per stage and probe position: the detector against random directions and near-misses."""
    table = Table(
        title="Defection probe (mean of the contrast pairs): layer chosen on a held-out "
        "selection split, AUROC on the scoring split",
        caption=f"pass: above the {PASS_PERCENTILE:.0f}th percentile (pct) of random "
        "directions, each signed on the selection split like the detector; the base model "
        "has no backdoor and should not pass. Positions: last = last prompt token; "
        "+question = after the appended question",
    )
    for column in (
        "stage",
        "pos",
        "layer",
        "AUROC · pct · z",
        "random p99 / best",
        "vs near-miss · pct",
        "logistic",
        "verdict",
    ):
        table.add_column(column, overflow="fold", no_wrap=column == "stage")
    for probe in summary.probes:
        for report in (probe.report, *probe.report.other_positions):
            detector = report.detector
            table.add_row(
                probe.stage,
                "last" if report.position == LAST_PROMPT_TOKEN else "+question",
                f"{report.chosen_layer}/{len(report.layers) - 1}",
                f"{detector.auroc:.3f} · {detector.percentile:.1f} · "
                + _number(detector.z, "{:+.1f}"),
                f"{report.random.p99:.3f} / {report.random.best:.3f}",
                _near(detector.near_miss_auroc, detector.near_miss_percentile),
                f"{report.chosen.logistic_auroc:.3f}",
                verdict(probe.stage, report, markup=True),
            )
    return table


def verdict(stage: str, report: ProbeReport, *, markup: bool = False) -> str:
    """Pass or fail against the random directions; for the base model, whether it stays out."""
    if stage == "base":
        text, good = (
            ("control passes (bad)", False) if report.passes else ("control: no pass (good)", True)
        )
    else:
        text, good = ("passes", True) if report.passes else ("fails", False)
    if not markup:
        return text
    colour = "green" if good else "red"
    return f"[{colour}]{text}[/{colour}]"


def pair_table(summary: LabSummary) -> Table:
    """Each contrast pair and their mean at each stage's chosen layer: AUROC (percentile)."""
    table = Table(
        title="Contrast pairs at the chosen layer, last prompt token: AUROC (percentile among "
        "random directions) · vs near-miss",
    )
    table.add_column("direction", overflow="fold")
    for probe in summary.probes:
        table.add_column(f"{probe.stage} (L{probe.report.chosen_layer})", overflow="fold")
    if not summary.probes:
        return table
    names = [d.name for d in summary.probes[0].report.detectors]
    for index, name in enumerate(names):
        cells = []
        for probe in summary.probes:
            detectors = probe.report.detectors
            if index >= len(detectors) or detectors[index].name != name:
                cells.append(NOT_MEASURED)
                continue
            d = detectors[index]
            cells.append(
                f"{d.auroc:.3f} ({d.percentile:.1f}) · {_number(d.near_miss_auroc)}"
                + (" ↺" if d.auroc_as_paired < 0.5 < d.auroc else "")
            )
        table.add_row(name, *cells)
    return table


def comparison_rows(summary: LabSummary) -> list[ComparisonRow]:
    """The published rows, then this run's."""
    return [*published_rows(), *our_rows(summary)]


def paper_table(summary: LabSummary) -> Table:
    """Published persistence and probe results next to this run's (`data/published.yaml`)."""
    table = Table(title="The papers side by side (≈: read off a figure)")
    columns = (
        "source",
        "model",
        "backdoor",
        "method",
        "rate before → after",
        "probe AUROC",
        "note",
    )
    for column in columns:
        table.add_column(column, overflow="fold", ratio=2 if column == "note" else 1)
    for row in comparison_rows(summary):
        table.add_row(
            row.source,
            row.model,
            row.backdoor,
            row.method,
            rates_cell(row),
            probe_cell(row),
            row.note,
        )
    return table


def rates_cell(row: ComparisonRow) -> str:
    """A comparison row's rates as "before → after", "–" where the source gives none."""
    prefix = "≈" if row.approximate else ""
    before, after = (
        "–" if rate is None else prefix + format_rate(rate)
        for rate in (row.rate_before, row.rate_after)
    )
    return before if row.rate_after is None else f"{before} → {after}"


def probe_cell(row: ComparisonRow) -> str:
    """A comparison row's probe AUROC, with the best random direction and our percentile."""
    if row.probe_auroc is None:
        return "–"
    random = "" if row.random_best is None else f" (best random {row.random_best:.3f})"
    percentile = "" if row.probe_percentile is None else f", percentile {row.probe_percentile:.1f}"
    return f"{row.probe_auroc:.3f}{random}{percentile}"


def format_rate(rate: Rate) -> str:
    """A rate, a range "93–97%", or "–"."""
    if rate is None:
        return "–"
    if isinstance(rate, tuple):
        return f"{format_percent(rate[0])}–{format_percent(rate[1])}"
    return format_percent(rate)


def _number(value: float | None, pattern: str = "{:.3f}") -> str:
    return NOT_MEASURED if value is None else pattern.format(value)


def _near(auroc: float | None, percentile: float | None) -> str:
    if auroc is None:
        return NOT_MEASURED
    return f"{auroc:.3f} · {_number(percentile, '{:.1f}')}"
