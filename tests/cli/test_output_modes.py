"""--quiet, --json, merged reports and the exit codes, through typer's CliRunner.

Two small real runs (scripted agents, one theme, one condition, local sandbox) are
made once and reused: one under --json, one under --quiet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tripwire._cli._exit import ExitCode
from tripwire._cli.main import app

runner = CliRunner()
SCHEMER = "tripwire/scripted-schemer-sed"
HONEST = "tripwire/scripted-honest"
DOCS = Path(__file__).parents[2] / "docs" / "cli.md"


def quick_eval(out: Path, *args: str) -> Result:
    return runner.invoke(
        app,
        [
            "eval",
            "oversight-subversion",
            "--themes",
            "traffic",
            "--conditions",
            "strong",
            "--sandbox",
            "local",
            "--out",
            str(out),
            *args,
        ],
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Result]]:
    root = tmp_path_factory.mktemp("runs")
    both = quick_eval(root / "a", "--model", SCHEMER, "--model", HONEST, "--json")
    honest = quick_eval(root / "b", "--model", HONEST, "--quiet")
    return {"a": (root / "a", both), "b": (root / "b", honest)}


def test_json_is_one_document_on_stdout_and_human_text_on_stderr(runs) -> None:
    out, result = runs["a"]
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is True and summary["samples"] == 2
    rates = {(r["model"], r["scenario"], r["condition"]): r for r in summary["rates"]}
    schemer = rates[(SCHEMER, "oversight-subversion", "strong")]
    assert (schemer["n"], schemer["schemed"], schemer["errors"]) == (1, 1, 0)
    assert 0 < schemer["ci_low"] < schemer["rate"] == 1.0 == schemer["ci_high"]
    assert {r["model"]: r["ok"] for r in summary["calibration"]} == {SCHEMER: True, HONEST: True}
    assert Path(summary["files"]["report_html"]) == out / "report.html"
    assert Path(summary["files"]["results_jsonl"]).is_file()
    # Tables, file lines and the verdict went to stderr; stdout holds only the JSON.
    assert "Calibration" in result.stderr and "calibration passed" in result.stderr
    # No terminal: one plain progress line per finished batch, never a redrawn bar.
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert lines == [
        f"[1/2] oversight-subversion: {SCHEMER}: 1 schemed · 0 clean · 0 error (1/1 scored, "
        + lines[0].split("scored, ")[1],
        f"[2/2] oversight-subversion: {HONEST}: 0 schemed · 1 clean · 0 error (1/1 scored, "
        + lines[1].split("scored, ")[1],
    ]
    assert "━" not in result.stderr.split("Scheming rates")[0]


def test_quiet_prints_only_the_verdict(runs) -> None:
    _, result = runs["b"]
    assert result.exit_code == ExitCode.OK, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith("calibration passed:") and "1 samples, 0 schemed" in line
    assert "[1/1]" not in result.stderr and "Scheming rates" not in result.output


def test_report_merges_runs_into_one(runs, tmp_path: Path) -> None:
    (a, _), (b, _) = runs["a"], runs["b"]
    result = runner.invoke(app, ["report", str(a), str(b), "--out", str(tmp_path), "--json"])
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert summary["samples"] == 3 and summary["duplicates_dropped"] == 0
    # The honest agent ran in both: one row under its name, its samples together.
    [honest] = [r for r in summary["rates"] if r["model"] == HONEST]
    assert honest["n"] == 2
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3
    assert (tmp_path / "report.html").is_file()


def test_report_keeps_a_sample_given_twice_once(runs, tmp_path: Path) -> None:
    a, _ = runs["a"]
    result = runner.invoke(
        app, ["report", str(a), str(a / "results.jsonl"), "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    summary = json.loads(result.stdout)
    assert (summary["samples"], summary["duplicates_dropped"]) == (2, 2)
    assert "2 sample(s) given more than once were counted once" in result.stderr


def test_report_of_several_paths_needs_out(runs) -> None:
    (a, _), (b, _) = runs["a"], runs["b"]
    result = runner.invoke(app, ["report", str(a), str(b)])
    assert result.exit_code == ExitCode.USAGE
    assert "--out DIR" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_usage_and_config_errors_exit_2(tmp_path: Path) -> None:
    missing_option = runner.invoke(app, ["eval", "oversight-subversion"])
    assert missing_option.exit_code == ExitCode.USAGE  # typer's own usage error
    missing_path = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing_path.exit_code == ExitCode.USAGE
    assert "does not exist" in missing_path.stderr


def test_a_failed_calibration_exits_1_with_its_verdict(tmp_path: Path) -> None:
    # One turn is too few for the scripted schemer to act: it comes out clean, and the
    # run's calibration fails.
    result = quick_eval(tmp_path, "--model", SCHEMER, "--max-turns", "1", "--json")
    assert result.exit_code == ExitCode.VERDICT_FAILED, result.output
    summary = json.loads(result.stdout)
    assert summary["ok"] is False
    assert [(r["model"], r["ok"]) for r in summary["calibration"]] == [(SCHEMER, False)]
    assert f"CALIBRATION FAILED  {SCHEMER}" in result.stderr


def test_a_calibration_too_small_to_reach_alpha_is_inconclusive_not_failed(
    tmp_path: Path,
) -> None:
    # The quick size gives the sandbagging test 3 samples a side: the smallest p-value it
    # can reach is 1 / C(6, 3) = 0.05 > 0.01, so no result there could show the detector
    # works. The run says so, instead of blaming the detector.
    result = runner.invoke(
        app,
        [
            "eval",
            "sandbagging",
            "--model",
            "tripwire/scripted-schemer",
            "--size",
            "quick",
            "--sandbox",
            "local",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == ExitCode.VERDICT_FAILED, result.output
    [verdict] = json.loads(result.stdout)["deferred_calibration"]
    assert verdict["ok"] is False and verdict["problems"] == []
    assert "smallest p-value possible is 0.05" in verdict["inconclusive"]
    assert "CALIBRATION INCONCLUSIVE" in result.stderr
    assert "CALIBRATION FAILED" not in result.stderr
    page = (tmp_path / "report.html").read_text()
    assert ">INCONCLUSIVE<" in page and ">FAIL<" not in page


def test_guard_check_exits_with_its_decision(tmp_path: Path) -> None:
    allowed = runner.invoke(
        app, ["guard", "check", "--tool", "Read", "--args", '{"file_path": "a"}']
    )
    assert allowed.exit_code == ExitCode.OK
    denied = runner.invoke(
        app,
        ["guard", "check", "--tool", "Write", "--args", '{"file_path": "oversight.yaml"}'],
    )
    assert denied.exit_code == ExitCode.DENY


def test_docs_list_every_exit_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"^\| {code.value} \| `{code.name}` \|", text, re.M), code
