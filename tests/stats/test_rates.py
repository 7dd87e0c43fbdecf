import math

import pytest

from tripwire.results._row import ResultRow
from tripwire.stats import RateSummary, summarise, wilson_interval


def row(
    outcome: str, *, model: str = "m", condition: str = "strong", **kwargs: object
) -> ResultRow:
    return ResultRow(scenario="s", model=model, condition=condition, outcome=outcome, **kwargs)


def test_wilson_interval_matches_known_values() -> None:
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4)
    assert high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_at_the_ends_is_exact() -> None:
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)
    # n=7 is one where statsmodels' floating point lands a hair off 0 and 1.
    assert wilson_interval(0, 7)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0


def test_wilson_interval_narrows_with_confidence() -> None:
    low95, high95 = wilson_interval(5, 10)
    low80, high80 = wilson_interval(5, 10, confidence=0.8)
    assert low95 < low80 < 0.5 < high80 < high95


@pytest.mark.parametrize(
    ("successes", "n", "confidence"), [(0, 0, 0.95), (3, 2, 0.95), (-1, 2, 0.95), (1, 2, 1.0)]
)
def test_wilson_interval_rejects_bad_input(successes: int, n: int, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n, confidence)


def test_errors_are_counted_but_not_in_the_denominator() -> None:
    rows = [row("schemed"), row("clean"), row("clean"), row("clean"), row("error", error="boom")]
    [summary] = summarise(rows)
    assert (summary.n, summary.schemed, summary.clean, summary.errors) == (4, 1, 3, 1)
    assert summary.total == 5
    assert summary.rate == pytest.approx(0.25)
    expected = wilson_interval(1, 4)
    assert (summary.ci_low, summary.ci_high) == pytest.approx(expected)


def test_all_errors_is_unscored_not_zero() -> None:
    [summary] = summarise([row("error"), row("error")])
    assert summary.n == 0
    assert summary.errors == 2
    assert summary.rate is None
    assert summary.ci_low is None
    assert summary.ci_high is None


def test_groups_are_sorted_by_scenario_model_then_condition_order() -> None:
    conditions = ["zeta", "none", "alpha", "plain", "strong"]
    rows = [row("clean", model=model, condition=c) for model in ("b", "a") for c in conditions]
    order = [(s.model, s.condition) for s in summarise(rows)]
    expected_conditions = ["strong", "plain", "none", "alpha", "zeta"]
    assert order == [("a", c) for c in expected_conditions] + [
        ("b", c) for c in expected_conditions
    ]


def test_grouping_by_fewer_fields_pools_the_rest() -> None:
    rows = [
        row("schemed", condition="strong"),
        row("clean", condition="none"),
        row("error", condition="plain"),
    ]
    [summary] = summarise(rows, by=("model",))
    assert (summary.model, summary.condition, summary.scenario) == ("m", "", "")
    assert (summary.n, summary.schemed, summary.errors) == (2, 1, 1)
    [everything] = summarise(rows, by=())
    assert everything.rate == pytest.approx(0.5)


def test_grouping_by_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="theme"):
        summarise([row("clean")], by=("theme",))  # type: ignore[arg-type]


def test_chose_goal_counts_only_scored_samples_that_chose() -> None:
    rows = [
        row("schemed", chose_goal_option=True),
        row("clean", chose_goal_option=False),
        row("clean", chose_goal_option=None),
        # An error sample's choice does not count: it was not scored.
        row("error", chose_goal_option=True),
    ]
    [summary] = summarise(rows)
    assert (summary.choices, summary.chose_goal) == (2, 1)
    assert summary.chose_goal_rate == pytest.approx(0.5)


def test_chose_goal_rate_is_none_without_choices() -> None:
    [summary] = summarise([row("clean"), row("schemed")])
    assert summary.choices == 0
    assert summary.chose_goal_rate is None


def test_summary_round_trips_through_json() -> None:
    [summary] = summarise([row("schemed"), row("clean")])
    again = RateSummary.model_validate_json(summary.model_dump_json())
    assert again == summary
    assert not math.isnan(again.rate or math.nan)


def test_empty_input_gives_no_summaries() -> None:
    assert summarise([]) == []
