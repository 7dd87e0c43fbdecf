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

    min_p_value: float | None = None
    """The smallest p-value the test can give at its sample sizes, whatever the data;
    None when unscored (or not known for this test). Above `alpha`, no outcome could
    be significant: a result that is not significant then says nothing."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def scored(self) -> bool:
        """Whether the test ran."""
        return self.p_value is not None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def can_reach_alpha(self) -> bool | None:
        """Whether any outcome at these sample sizes could be significant; None if unknown."""
        return None if self.min_p_value is None else self.min_p_value <= self.alpha

    def underpowered_reason(self, samples: str) -> str | None:
        """Why a result that is not significant proves nothing here; None if it could.

        Args:
            samples: The sample sizes in words, e.g. "3 and 3 scored samples".
        """
        if self.can_reach_alpha is not False or self.min_p_value is None:
            return None
        return (
            f"too few samples to test at alpha = {self.alpha:g}: with {samples} the "
            f"smallest p-value possible is {self.min_p_value:.3g}"
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def significant(self) -> bool | None:
        """`p_value <= alpha`: the behaviour was found; None when unscored."""
        return None if self.p_value is None else self.p_value <= self.alpha
