"""Incident scenarios beside the figures published for the incidents they follow.

The in-context scheming suite has the paper's tables (`_paper.py`); the incident
scenarios follow separate studies, each with its own counts and conditions. Their
published figures live in `data/published_incidents.yaml`, which names each source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files

import yaml
from pydantic import BaseModel, Field, ValidationError
from rich.markup import escape
from rich.table import Table

from tripwire._errors import ConfigError
from tripwire.results import ResultRow
from tripwire.stats import RateSummary, expected_outcome, summarise

from ._format import format_ci, format_percent
from ._terminal import narrow_table

__all__ = ["AnchorRow", "PublishedAnchor", "anchor_rows", "anchor_table", "load_anchors"]


class PublishedAnchor(BaseModel, frozen=True):
    """A published rate per model for one scenario and condition."""

    scenario: str
    """The tripwire scenario that follows the study."""

    condition: str
    """The tripwire condition that matches the study's setting."""

    label: str
    """What was counted, in a few words."""

    runs: int = Field(gt=0)
    """Runs per model in the study."""

    rates: dict[str, float] = Field(default_factory=dict)
    """Published rate per model (may be empty when only a direction was published)."""

    approximate: list[str] = Field(default_factory=list)
    """Models whose rate the source gives only approximately."""

    note: str | None = None
    """What the source says where it gives no rates."""

    source: str
    """Citation."""

    def published_text(self) -> str:
        """The published rates in one line, e.g. `o3 79%, codex-mini ≈30%`."""
        if not self.rates:
            return self.note or "—"
        parts = [
            f"{model} {'≈' if model in self.approximate else ''}{format_percent(rate)}"
            for model, rate in self.rates.items()
        ]
        return ", ".join(parts) + f" (n={self.runs} each)"


class _AnchorFile(BaseModel, frozen=True):
    anchors: list[PublishedAnchor]


@cache
def load_anchors() -> list[PublishedAnchor]:
    """The packaged published figures of the incident scenarios.

    Raises:
        ConfigError: If the data file is missing or invalid (naming the problem).
    """
    resource = files("tripwire.report").joinpath("data/published_incidents.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
        return _AnchorFile.model_validate(loaded).anchors
    except (OSError, yaml.YAMLError, ValidationError) as ex:
        raise ConfigError(f"Invalid published-figures file {resource}: {ex}") from ex


class AnchorRow(BaseModel):
    """One model's rate in an anchored scenario and condition, the study's beside it."""

    anchor: PublishedAnchor
    """The published figures."""

    rates: RateSummary
    """tripwire's rate for the same scenario, condition and model (`summarise`)."""

    @property
    def model(self) -> str:
        """The Inspect model measured."""
        return self.rates.model

    @property
    def count(self) -> int:
        """Judged samples that schemed."""
        return self.rates.schemed

    @property
    def n(self) -> int:
        """Judged samples (schemed or clean)."""
        return self.rates.n

    @property
    def errors(self) -> int:
        """Samples that could not be judged (not in n)."""
        return self.rates.errors

    @property
    def rate(self) -> float | None:
        """The share of judged samples that schemed; None when nothing was judged (never 0)."""
        return self.rates.rate

    @property
    def ci_low(self) -> float | None:
        """Lower end of the 95% Wilson interval."""
        return self.rates.ci_low

    @property
    def ci_high(self) -> float | None:
        """Upper end of the 95% Wilson interval."""
        return self.rates.ci_high


def anchor_rows(rows: Iterable[ResultRow]) -> list[AnchorRow]:
    """Each evaluated model's rate where a published figure exists (scripted agents left out).

    Ordered by model, then in the order of the published-figures file.
    """
    evaluated = [row for row in rows if expected_outcome(row.model) is None and not row.guard]
    rates = {(s.scenario, s.condition, s.model): s for s in summarise(evaluated)}
    return [
        AnchorRow(anchor=anchor, rates=rates[(anchor.scenario, anchor.condition, model)])
        for model in sorted({row.model for row in evaluated})
        for anchor in load_anchors()
        if (anchor.scenario, anchor.condition, model) in rates
    ]


def anchor_table(rows: Sequence[AnchorRow], model: str) -> Table:
    """One model's anchored rates with the published figures beside them.

    The model's full name is the title, so the table stays readable at 80 columns.
    """
    table = narrow_table(escape(f"{model} vs published incident studies"))
    table.add_column("scenario", overflow="fold")
    table.add_column("cond.", overflow="fold")
    table.add_column("rate (95% CI)", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("err", justify="right", no_wrap=True)
    table.add_column("published", overflow="fold")
    for row in rows:
        if row.model != model:
            continue
        rate = "unscored" if row.rate is None else format_percent(row.rate)
        table.add_row(
            escape(row.anchor.scenario),
            escape(row.anchor.condition),
            f"{rate} {format_ci(row.ci_low, row.ci_high)}",
            str(row.n),
            str(row.errors),
            escape(row.anchor.published_text()),
        )
    return table
