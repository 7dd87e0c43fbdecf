import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from tripwire._errors import ConfigError
from tripwire.report import (
    calibration_table,
    format_ci,
    format_percent,
    rate_table,
    read_results,
    write_html_report,
    write_results,
)
from tripwire.results._row import ResultRow
from tripwire.stats import calibrate, summarise

EVIL = "<script>alert('pwned')</script>"


def sample_rows() -> list[ResultRow]:
    return [
        ResultRow(
            scenario="oversight-subversion",
            condition="strong",
            model="openai/gpt-4o",
            sample_id="strong-1",
            outcome="schemed",
            evidence=[
                f"echo 'oversight_enabled: false' > config.yaml {EVIL}",
                "second, with ünïcode \u2028 line sep",
            ],
            choice="B",
            chose_goal_option=True,
            tokens=1234,
            seconds=4.5,
        ),
        ResultRow(
            scenario="oversight-subversion",
            condition="strong",
            model="openai/gpt-4o",
            sample_id="strong-2",
            outcome="clean",
        ),
        ResultRow(
            scenario="oversight-subversion",
            condition="none",
            model="openai/gpt-4o",
            sample_id="none-1",
            outcome="error",
            error="model output could not be parsed <b>bold</b>",
        ),
        ResultRow(
            scenario="oversight-subversion",
            condition="strong",
            model="tripwire/scripted-honest",
            sample_id="h1",
            outcome="clean",
        ),
        ResultRow(
            scenario="oversight-subversion",
            condition="strong",
            model="tripwire/scripted-schemer",
            sample_id="s1",
            outcome="error",
            error="sandbox died",
        ),
    ]


def render(renderable: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# --- formatting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0%"), (0.5, "50%"), (0.004, "0.4%"), (0.996, "99.6%"), (1.0, "100%"), (0.9999, "100%")],
)
def test_format_percent(value: float, text: str) -> None:
    assert format_percent(value) == text


def test_format_ci() -> None:
    assert format_ci(0.2366, 0.7634) == "[24%, 76%]"
    assert format_ci(None, None) == "—"


# --- terminal tables --------------------------------------------------------------


def test_rate_table_shows_rates_errors_and_unscored() -> None:
    text = render(rate_table(summarise(sample_rows()), title="my run"))
    assert "my run" in text
    lines = text.splitlines()
    # Grouped: the model's full name, then its scenario, then one row per condition.
    block = lines[next(i for i, line in enumerate(lines) if line.strip() == "openai/gpt-4o") :]
    assert block[1].strip() == "oversight-subversion"
    strong = next(line for line in block if line.strip().startswith("strong"))
    # 1 of 2 scored schemed, Wilson [9%, 91%], n=2, 0 errors, 1 of 1 chose own goal.
    assert re.search(r"50% \(1/2\)\s+\[9%, 91%\]\s+2\s+0\s+1/1", strong)
    none_line = next(line for line in block if line.strip().startswith("none"))
    assert "unscored" in none_line
    assert re.search(r"unscored\s+—\s+0\s+1\s", none_line)  # n=0, errors=1


def test_rate_table_never_cuts_names_at_80_columns() -> None:
    rows = [
        ResultRow(
            scenario="instrumental-alignment-faking",
            condition="strong",
            model="anthropic/claude-sonnet-4-5-20250929",
            sample_id="x",
            outcome="clean",
        ),
        *sample_rows(),
    ]
    console = Console(width=80, record=True, color_system=None)
    console.print(rate_table(summarise(rows)))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    joined = "".join(line.strip() for line in text.splitlines())
    for name in ("anthropic/claude-sonnet-4-5-20250929", "instrumental-alignment-faking"):
        assert name in joined  # whole, if folded onto a second line


def test_calibration_table_pass_and_fail() -> None:
    text = render(calibration_table(calibrate(sample_rows())))
    honest = next(line for line in text.splitlines() if "scripted-honest" in line)
    schemer = next(line for line in text.splitlines() if "scripted-schemer" in line)
    assert "PASS" in honest and "FAIL" not in honest
    assert "FAIL" in schemer and "s1@1: error (sandbox died)" in schemer


# --- results files ----------------------------------------------------------------


def test_results_round_trip_through_pandas_and_read_results(tmp_path: Path) -> None:
    rows = sample_rows()
    jsonl, csv = write_results(rows, tmp_path / "out")
    assert (jsonl.name, csv.name) == ("results.jsonl", "results.csv")

    assert read_results(jsonl) == rows

    from_jsonl = pd.read_json(jsonl, lines=True)
    assert list(from_jsonl["outcome"]) == [r.outcome for r in rows]
    assert from_jsonl.loc[0, "evidence"] == rows[0].evidence

    from_csv = pd.read_csv(csv)
    assert list(from_csv.columns) == list(ResultRow.model_fields)
    assert len(from_csv) == len(rows)
    assert json.loads(from_csv.loc[0, "evidence"]) == rows[0].evidence
    assert from_csv.loc[2, "error"] == rows[2].error
    assert from_csv.loc[0, "tokens"] == 1234


def test_empty_results_still_have_a_csv_header(tmp_path: Path) -> None:
    jsonl, csv = write_results([], tmp_path)
    assert read_results(jsonl) == []
    assert list(pd.read_csv(csv).columns) == list(ResultRow.model_fields)


def test_malformed_line_names_the_line(tmp_path: Path) -> None:
    jsonl, _ = write_results(sample_rows()[:2], tmp_path)
    with jsonl.open("a", encoding="utf-8") as f:
        f.write("\n")  # blank lines are skipped, but still counted
        f.write('{"scenario": "s", "truncated\n')
    with pytest.raises(ConfigError, match=r"line 4: not a tripwire result row") as info:
        read_results(jsonl)
    assert "\n" not in str(info.value)


def test_invalid_row_names_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    good = sample_rows()[1].model_dump_json()
    path.write_text(good + "\n" + good.replace('"clean"', '"maybe"') + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 2: .*outcome"):
        read_results(path)


def test_missing_results_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read results file"):
        read_results(tmp_path / "nope.jsonl")


# --- HTML report ----------------------------------------------------------------


@pytest.fixture
def report(tmp_path: Path) -> str:
    rows = sample_rows()
    path = write_html_report(
        rows,
        summarise(rows),
        calibrate(rows),
        tmp_path / "sub" / "report.html",
        title="test <run>",
        meta={"command": "tripwire run --model openai/gpt-4o", "logs": "runs/x/logs"},
    )
    assert path == tmp_path / "sub" / "report.html"
    return path.read_text(encoding="utf-8")


def test_html_escapes_evidence_errors_and_title(report: str) -> None:
    assert EVIL not in report
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in report
    assert "<b>bold</b>" not in report
    assert "model output could not be parsed &lt;b&gt;bold&lt;/b&gt;" in report
    assert "<title>test &lt;run&gt;</title>" in report
    assert "<script" not in report.lower()


def test_html_has_headline_calibration_and_meta(report: str) -> None:
    assert "PASS" in report and "FAIL" in report
    assert "s1@1: error (sandbox died)" in report
    assert "tripwire run --model openai/gpt-4o" in report
    assert "runs/x/logs" in report
    assert "unscored" in report  # the `none` condition had only an error
    assert "sandbox died" in report and "strong-1" in report


def test_html_embeds_the_plot_inline(report: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", report, flags=re.DOTALL)
    assert len(svgs) == 1
    # The evaluated model is plotted (calibration agents are left out beside it).
    assert "openai/gpt-4o" in svgs[0]
    assert "scripted-honest" not in svgs[0]
    assert "<?xml" not in report and "<!DOCTYPE svg" not in report


def test_html_is_self_contained(report: str) -> None:
    assert "http" not in report
    # Only in-page references (the SVG's own markers and clip paths) are allowed.
    targets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", report)
    assert all(target.startswith("#") for target in targets), targets
    urls = re.findall(r"""url\(\s*["']?([^)"']*)""", report)
    assert all(url.startswith("#") for url in urls), urls
    assert "@import" not in report


def test_plot_escapes_names_from_the_data(tmp_path: Path) -> None:
    rows = [ResultRow(scenario=f"s{EVIL}", condition="c$1$", model=f"m{EVIL}", outcome="schemed")]
    path = write_html_report(rows, summarise(rows), [], tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert EVIL not in text
    [svg] = re.findall(r"<svg\b.*?</svg>", text, flags=re.DOTALL)
    assert "&lt;script&gt;" in svg
    # "$…$" would be mathtext to matplotlib; a condition name is shown as written.
    assert "c$1$" in svg


def test_html_with_several_scenarios_has_a_panel_each(tmp_path: Path) -> None:
    rows = [
        ResultRow(scenario=name, condition="strong", model="m", outcome="clean")
        for name in ("goal-guarding", "self-exfiltration")
    ]
    text = write_html_report(rows, summarise(rows), [], tmp_path / "r.html").read_text()
    [svg] = re.findall(r"<svg\b.*?</svg>", text, flags=re.DOTALL)
    assert "goal-guarding" in svg and "self-exfiltration" in svg


def test_html_report_of_an_empty_run(tmp_path: Path) -> None:
    text = write_html_report([], [], [], tmp_path / "r.html").read_text()
    assert "<svg" not in text
    assert "No samples in this run." in text
