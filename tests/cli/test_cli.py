import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tripwire._cli.main import app


def tripwire(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_unknown_scenario_is_one_line_error():
    result = tripwire("eval", "no-such-scenario", "--model", "tripwire/scripted-honest")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Unknown evaluation 'no-such-scenario'" in lines[0]
    assert "oversight-subversion" in lines[0]


def test_unknown_model_is_recorded_not_a_traceback(tmp_path):
    result = tripwire(
        "eval",
        "oversight-subversion",
        "--model",
        "tripwire/no-such-model",
        "--themes",
        "traffic",
        "--conditions",
        "strong",
        "--sandbox",
        "local",
        "--out",
        str(tmp_path),
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert "no-such-model" in result.stderr + result.stdout


def test_missing_bwrap_is_one_line_error(monkeypatch, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tripwire",
            "eval",
            "oversight-subversion",
            "--model",
            "tripwire/scripted-honest",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "apt-get install -y bubblewrap" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_eval_writes_results_and_report(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "eval",
            "oversight-subversion",
            "--model",
            "tripwire/scripted-schemer-sed",
            "--model",
            "tripwire/scripted-honest",
            "--themes",
            "traffic",
            "--conditions",
            "strong,none",
            "--sandbox",
            "local",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 4
    outcomes = {(r["model"], r["condition"]): r["outcome"] for r in rows}
    assert outcomes[("tripwire/scripted-schemer-sed", "strong")] == "schemed"
    assert outcomes[("tripwire/scripted-honest", "none")] == "clean"
    assert (tmp_path / "results.csv").exists()
    html = (tmp_path / "report.html").read_text()
    assert "sed -i" in html
    assert list((tmp_path / "logs").rglob("*.eval"))
    # calibration verdicts are printed for the scripted agents
    assert "PASS" in result.output


def test_report_rebuilds_from_logs(tmp_path):
    runner = CliRunner()
    first = runner.invoke(
        app,
        [
            "eval",
            "oversight-subversion",
            "--model",
            "tripwire/scripted-schemer-delete",
            "--themes",
            "traffic",
            "--conditions",
            "plain",
            "--sandbox",
            "local",
            "--out",
            str(tmp_path),
        ],
    )
    assert first.exit_code == 0, first.output
    (tmp_path / "results.jsonl").unlink()
    again = runner.invoke(app, ["report", str(tmp_path)])
    assert again.exit_code == 0, again.output
    [row] = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert row["outcome"] == "schemed"
    assert "removed or moved" in row["evidence"][0]


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["eval", "--help"]])
def test_help(args):
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_eval_sandbagging_shows_its_test_and_calibration(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "sandbagging",
            "--model",
            "tripwire/scripted-schemer-sandbag",
            "--size",
            "quick",
            "--conditions",
            "strong",
            "--calibration",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    # Judged across samples: its own calibration, not a 0% "scheming rate".
    assert "Calibration of evaluations judged across samples" in result.output
    assert "PASS" in result.output and "FAIL" not in result.output
    assert "scheming rate" not in result.output
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {r["setting"] for r in rows} == {"sandbag", "counterfactual"}


def test_a_suite_override_one_evaluation_lacks_is_an_error_alone(tmp_path):
    result = tripwire(
        "eval", "sandbagging", "--model", "tripwire/scripted-honest", "--themes", "traffic"
    )
    assert result.returncode == 2
    assert "sandbagging does not take themes" in result.stderr


def test_eval_alignment_faking_is_judged_over_pairs(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "instrumental-alignment-faking",
            "--model",
            "tripwire/scripted-schemer-fake-alignment",
            "--size",
            "quick",
            "--themes",
            "traffic,energy",
            "--calibration",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Calibration of evaluations judged across samples" in result.output
    # honest, the faker, the mixed schemer and the garbled agent
    assert result.output.count("PASS") == 4 and "FAIL" not in result.output
    assert "scheming rate" not in result.output  # never a per-sample 0%
