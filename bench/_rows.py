"""One row of the benchmark race: tripwire against what a user would pick instead.

Every bench script's `measure(quick)` returns `Row`s; `bench/run.py` prints them as
one table and writes them as JSON. A row compares two numbers measured in the same
run (so machine noise hits both alike) and says whether the SPEC §11 target is met.
A row that could not be measured carries `skipped` (why), never a made-up number.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field, computed_field

__all__ = ["Row", "Skipped", "Target", "skipped_rows"]


class Skipped(Exception):
    """A section (or a comparison) cannot run here; the message says why."""


class Target(BaseModel, frozen=True):
    """A SPEC §11 figure to reach, on the ratio or on our own number."""

    on: Literal["ratio", "ours"]
    """What the target constrains: `ratio` (ours / baseline) or `ours` (the raw figure)."""

    op: Literal["<=", ">="]
    """How `value` bounds it."""

    value: float
    """The bound."""

    def met(self, ours: float | None, ratio: float | None) -> bool | None:
        """Whether the figure meets the target; None when it was not measured."""
        figure = ratio if self.on == "ratio" else ours
        if figure is None or not math.isfinite(figure):
            return None
        return figure <= self.value if self.op == "<=" else figure >= self.value

    def __str__(self) -> str:
        bound = f"{self.op.replace('<=', '≤').replace('>=', '≥')} {self.value:g}"
        return f"ratio {bound}" if self.on == "ratio" else bound


class Row(BaseModel):
    """One comparison: our figure, the baseline's, their ratio and the target."""

    section: str
    """Which part of tripwire (`sandbox`, `harness`, `guard`, `audit`, `embedded`, `lab`)."""

    what: str
    """What is compared, e.g. `exec true: bwrap vs local`; stable, so tests can find it."""

    unit: str
    """Unit of `ours` and `baseline` (`ms/exec`, `tok/s`, ...)."""

    ours: float | None = None
    """tripwire's figure; None when skipped."""

    baseline: float | None = None
    """The alternative's figure, measured in the same run; None for a figure that has
    no alternative to race (then only the target applies)."""

    target: Target | None = None
    """The SPEC §11 target, if there is one."""

    skipped: str | None = None
    """Why the row was not measured (`skipped: <why>` in the table)."""

    error: str | None = None
    """One line: the section raised while measuring this row (`error: <line>`)."""

    note: str = ""
    """Sizes and settings behind the figures (rounds, calls, threads)."""

    raw: dict[str, float] = Field(default_factory=dict)
    """Extra figures (p99s, medians of each side) kept in the JSON only."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ratio(self) -> float | None:
        """ours / baseline, or None when either is missing or the baseline is zero."""
        if self.ours is None or self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    @computed_field  # type: ignore[prop-decorator]
    @property
    def met(self) -> bool | None:
        """Whether the target is met; None without a target or a figure."""
        return None if self.target is None else self.target.met(self.ours, self.ratio)


def skipped_rows(
    section: str, names: dict[str, str], *, skipped: str | None = None, error: str | None = None
) -> list[Row]:
    """One unmeasured row per expected comparison (`names`: what -> unit), with why."""
    return [
        Row(section=section, what=what, unit=unit, skipped=skipped, error=error)
        for what, unit in names.items()
    ]
