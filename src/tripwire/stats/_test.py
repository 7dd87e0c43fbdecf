"""What every hypothesis test over result rows reports besides its own statistics."""

from __future__ import annotations

from pydantic import BaseModel, computed_field

__all__ = ["HypothesisTest"]


class HypothesisTest(BaseModel):
    """A p-value against a significance level, with a confidence interval.

    Unscored (p-value and interval None, with the reason) when the test could not
    run: a test over too little data is not a finding of nothing.
    """

    p_value: float | None
    """The test's p-value; None when unscored."""

    ci_low: float | None
    """Lower bound of the confidence interval; None when unscored."""

    ci_high: float | None
    """Upper bound of the confidence interval; None when unscored."""

    confidence: float
    """Confidence level of the interval."""

    alpha: float
    """Significance level the p-value is compared with."""

    unscored_reason: str | None = None
    """Why the test could not run, when it could not."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scored(self) -> bool:
        """Whether the test ran."""
        return self.p_value is not None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def significant(self) -> bool | None:
        """`p_value <= alpha`: the behaviour was found; None when unscored."""
        return None if self.p_value is None else self.p_value <= self.alpha
