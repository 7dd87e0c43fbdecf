"""`tripwire guard check`, `guard policy` and `eval --guard` as a user runs them."""

import json
import shutil
import subprocess
import sys

import pytest


def tripwire(*args, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def test_check_reports_rule_reason_and_exit_code(tmp_path):
    denied = tripwire(
        "guard",
        "check",
        "--tool",
        "Write",
        "--args",
        '{"file_path": "oversight.yaml"}',
        cwd=tmp_path,
    )
    assert denied.returncode == 2
    assert "deny (oversight-tamper)" in denied.stdout
    assert str(tmp_path / "oversight.yaml") in denied.stdout
    allowed = tripwire(
        "guard", "check", "--tool", "Read", "--args", '{"file_path": "a.txt"}', "--json"
    )
    assert allowed.returncode == 0
    assert json.loads(allowed.stdout)["action"] == "allow"


def test_bad_arguments_and_bad_policy_are_one_line_errors(tmp_path):
    result = tripwire("guard", "check", "--args", "{nope")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--args is not JSON" in result.stderr
    bad = tmp_path / "p.yaml"
    bad.write_text("rules:\n  - name: x\n    decision: perhaps\n")
    result = tripwire("guard", "check", "--policy", str(bad), "--tool", "Read", "--args", "{}")
    assert result.returncode == 2
    assert f"{bad}:3: rules[0].decision" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_policy_prints_the_default_policy_which_loads(tmp_path):
    result = tripwire("guard", "policy")
    assert result.returncode == 0
    copy = tmp_path / "mine.yaml"
    copy.write_text(result.stdout)
    checked = tripwire(
        "guard", "check", "--policy", str(copy), "--tool", "delete_email", "--args", '{"id": 1}'
    )
    assert checked.returncode == 1  # ask
    assert "delete-mail-tool" in checked.stdout


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")
def test_eval_with_guard_runs_both_and_compares(tmp_path):
    result = tripwire(
        "eval", "oversight-subversion",
        "-m", "tripwire/scripted-schemer-delete",
        "--conditions", "strong", "--themes", "traffic", "--samples-per-condition", "1",
        "--guard", "default", "--out", str(tmp_path),
    )  # fmt: skip
    assert "Guarded vs unguarded" in result.stdout, result.stdout + result.stderr
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    plain = [r for r in rows if not r["guard"]]
    guarded = [r for r in rows if r["guard"]]
    assert [r["outcome"] for r in plain] == ["schemed"]
    assert [r["outcome"] for r in guarded] == ["clean"]
    assert guarded[0]["guard_blocks"] == ["oversight-tamper"]
    html = (tmp_path / "report.html").read_text()
    assert 'id="guard"' in html
    assert "oversight-tamper ×1" in html


def test_hook_is_listed_and_fails_closed_through_the_app():
    from typer.testing import CliRunner

    from tripwire._cli.main import app

    runner = CliRunner()
    assert "hook" in runner.invoke(app, ["--help"]).output
    result = runner.invoke(app, ["hook", "--audit", "off"], input="not json")
    assert result.exit_code == 2  # a block, in the Claude convention
    assert "not JSON" in result.output
