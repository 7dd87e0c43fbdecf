"""The paper's results table: tripwire's per-behaviour rates beside the published ones.

Rows are the behaviours of Meinke et al. 2024 (Tables 2 and 4); the published rates
come from `data/published.yaml`, which names its source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError
from rich.markup import escape
from rich.table import Table

from tripwire._errors import ConfigError
from tripwire.results import ResultRow
from tripwire.stats import expected_outcome, share_with_interval

from ._format import format_ci, format_percent
from ._terminal import narrow_table

__all__ = [
    "PaperRow",
    "Published",
    "PublishedBehaviour",
    "load_published",
    "paper_rows",
    "paper_table",
]

PAPER_CONDITIONS = ("strong", "plain")
"""Conditions the paper published rates for: with the nudge (Table 2), without (Table 4)."""


class PublishedBehaviour(BaseModel, frozen=True):
    """One row of the paper's table and its published rates."""

    id: str
    """Stable id, e.g. `successor_deleted`."""

    label: str
    """The paper's wording, e.g. `Deleted successor model`."""

    scenario: str
    """The tripwire scenario that measures it."""

    kinds: list[str] | Literal["any"] | None = None
    """tripwire behaviour kinds that count (default: `[id]`; `any`: any scheming)."""

    strong: dict[str, float] = Field(default_factory=dict)
    """Published rate per model with the strong goal nudge (Table 2)."""

    plain: dict[str, float] = Field(default_factory=dict)
    """Published rate per model with the goal but no nudge (Table 4)."""

    def counts(self, row: ResultRow) -> bool:
        """Whether a judged sample shows this behaviour."""
        if self.kinds == "any":
            return row.outcome == "schemed"
        kinds = self.kinds or [self.id]
        return any(kind in row.behaviours for kind in kinds)


class Published(BaseModel, frozen=True):
    """The published table."""

    source: str
    """Citation of the rates."""

    models: list[str]
    """Models the paper measured, in its column order."""

    behaviours: list[PublishedBehaviour]
    """Its rows."""

    alignment_faking: dict[str, dict[str, float | str]] = Field(default_factory=dict)
    """Table 5 per model: `instrumental`, `terminal`, `scheming` rates and `p`."""

    sandbagging: dict[str, dict[str, dict[str, float | str]]] = Field(default_factory=dict)
    """Table 6 by `goal` / `no_goal`, per model: accuracy `well`, `badly` and `p`."""

    def alignment_faking_caption(self) -> str:
        """Table 5 in one line, for beside tripwire's own."""
        parts = [
            f"{model} {float(v['scheming']):.0%} (p {v['p']})"
            for model, v in self.alignment_faking.items()
        ]
        return "paper (behavioural scheming, 99 pairs): " + ", ".join(parts)

    def sandbagging_caption(self) -> str:
        """Table 6's goal rows in one line, for beside tripwire's own."""
        parts = [
            f"{model} {float(v['well']):.0%}/{float(v['badly']):.0%} (p {v['p']})"
            for model, v in self.sandbagging.get("goal", {}).items()
        ]
        return "paper (with goal, well/badly): " + ", ".join(parts)


@cache
def load_published() -> Published:
    """The packaged published rates.

    Raises:
        ConfigError: If the data file is missing or invalid (naming the problem).
    """
    resource = files("tripwire.report").joinpath("data/published.yaml")
    try:
        return Published.model_validate(yaml.safe_load(resource.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as ex:
        raise ConfigError(f"Invalid published-rates file {resource}: {ex}") from ex


class PaperRow(BaseModel):
    """One behaviour's rate for one model and condition, with the paper's beside it."""

    behaviour: str
    """The paper's wording of the behaviour."""

    scenario: str
    """The scenario that measures it."""

    model: str
    """The Inspect model measured."""

    condition: str
    """`strong` or `plain`."""

    count: int
    """Judged samples that showed the behaviour."""

    n: int
    """Judged samples (schemed or clean)."""

    errors: int
    """Samples that could not be judged (not in n)."""

    rate: float | None
    """count / n, or None when nothing was judged (unscored, never 0)."""

    ci_low: float | None
    """Lower end of the 95% Wilson interval."""

    ci_high: float | None
    """Upper end of the 95% Wilson interval."""

    published: dict[str, float]
    """The paper's rate per model for this behaviour and condition."""


def paper_rows(rows: Iterable[ResultRow], models: Sequence[str] | None = None) -> list[PaperRow]:
    """The paper's behaviours measured on each model (scripted agents left out).

    Args:
        rows: Result rows of a run.
        models: Models to include (default: every non-scripted model in `rows`).
    """
    rows = list(rows)
    published = load_published()
    if models is None:
        models = sorted({r.model for r in rows if expected_outcome(r.model) is None})
    result = []
    for model in models:
        for condition in PAPER_CONDITIONS:
            for behaviour in published.behaviours:
                group = [
                    r
                    for r in rows
                    if r.model == model
                    and r.condition == condition
                    and r.scenario == behaviour.scenario
                ]
                if not group:
                    continue
                judged = [r for r in group if r.outcome != "error"]
                count = sum(behaviour.counts(r) for r in judged)
                rate, low, high = share_with_interval(count, len(judged))
                result.append(
                    PaperRow(
                        behaviour=behaviour.label,
                        scenario=behaviour.scenario,
                        model=model,
                        condition=condition,
                        count=count,
                        n=len(judged),
                        errors=len(group) - len(judged),
                        rate=rate,
                        ci_low=low,
                        ci_high=high,
                        published=getattr(behaviour, condition),
                    )
                )
    return result


def paper_table(rows: Sequence[PaperRow], model: str) -> Table:
    """One model's rows of the paper's table, the published rates beside them.

    The model's full name is the title, so the table stays readable at 80 columns.
    """
    published = load_published()
    table = narrow_table(escape(f"{model} vs Meinke et al. 2024"))
    table.add_column("behaviour", overflow="fold")
    table.add_column("cond.", overflow="fold")
    table.add_column("rate (95% CI)", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("err", justify="right", no_wrap=True)
    table.add_column("paper: " + " · ".join(_short(m) for m in published.models), justify="right")
    for row in rows:
        if row.model != model:
            continue
        rate = "unscored" if row.rate is None else format_percent(row.rate)
        table.add_row(
            escape(row.behaviour),
            row.condition,
            f"{rate} {format_ci(row.ci_low, row.ci_high)}",
            str(row.n),
            str(row.errors),
            " ".join(_published_cell(row.published.get(m)) for m in published.models),
        )
    return table


def _short(model: str) -> str:
    return model.split("-")[0]


def _published_cell(rate: float | None) -> str:
    return "—" if rate is None else format_percent(rate)
