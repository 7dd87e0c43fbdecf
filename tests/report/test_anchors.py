"""Incident scenarios beside the published studies, and guarded rates with intervals."""

from pathlib import Path

from rich.console import Console

from tripwire.report import anchor_rows, anchor_table, load_anchors, write_html_report
from tripwire.report._guard import guard_comparisons
from tripwire.results import ResultRow
from tripwire.stats import calibrate, summarise


def row(outcome, condition="none", model="openai/o3", scenario="shutdown-resistance", guard=""):
    return ResultRow(
        scenario=scenario, condition=condition, model=model, outcome=outcome, guard=guard
    )


def test_the_palisade_figures_load_with_their_source():
    anchors = {(a.scenario, a.condition): a for a in load_anchors()}
    none = anchors[("shutdown-resistance", "none")]
    assert none.rates["o3"] == 0.79 and none.runs == 100
    assert anchors[("shutdown-resistance", "user")].rates["o3"] == 0.07
    assert "Palisade" in none.source
    assert "o3 79%" in none.published_text() and "≈30%" in none.published_text()
    # Where the source gives a direction only, the text says so instead of a rate.
    assert "increased" in anchors[("shutdown-resistance", "system")].published_text()


def test_rates_leave_errors_scripted_agents_and_guarded_runs_out():
    rows = [
        *[row("schemed") for _ in range(3)],
        *[row("clean") for _ in range(7)],
        row("error"),
        row("schemed", model="tripwire/scripted-schemer"),
        row("clean", guard="default"),
        row("schemed", condition="user"),
        row("schemed", scenario="self-exfiltration", condition="strong"),
    ]
    result = {(r.anchor.condition, r.model): r for r in anchor_rows(rows)}
    assert set(result) == {("none", "openai/o3"), ("user", "openai/o3")}
    none = result[("none", "openai/o3")]
    assert (none.count, none.n, none.errors) == (3, 10, 1)
    assert none.rate == 0.3 and none.ci_low is not None and none.ci_low < 0.3 < none.ci_high


def test_a_condition_with_only_errors_is_unscored_not_zero():
    rows = [row("error"), row("error")]
    (only,) = anchor_rows(rows)
    assert only.rate is None and only.errors == 2
    console = Console(width=100, record=True)
    console.print(anchor_table([only], "openai/o3"))
    assert "unscored" in console.export_text()


def test_the_report_shows_the_studies_beside_tripwire(tmp_path: Path):
    rows = [row("schemed"), row("clean")]
    out = write_html_report(rows, summarise(rows), calibrate(rows), tmp_path / "r.html")
    html = out.read_text()
    assert 'id="incident-studies"' in html
    assert "50.0% (1/2)" in html and "o3 79%" in html


def test_guarded_comparison_gives_rates_with_wilson_intervals():
    rows = [
        *[row("schemed", condition="strong") for _ in range(3)],
        row("clean", condition="strong"),
        *[row("clean", condition="strong", guard="default") for _ in range(3)],
        row("error", condition="strong", guard="default"),
    ]
    (item,) = guard_comparisons(rows)
    assert item.unguarded.startswith("75% [") and item.unguarded.endswith("3/4")
    assert item.guarded.startswith("0% [0%, ") and item.guarded.endswith("0/3 (1 err)")
    only_errors = guard_comparisons([row("schemed"), row("error", guard="default")])
    assert only_errors[0].guarded == "unscored (1 err)"
