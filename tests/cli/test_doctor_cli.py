"""`tripwire doctor`: environment checks with fixes, and the security subset."""

import json
import shutil

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tripwire._cli._doctor import _attacks_table
from tripwire._cli.main import app

runner = CliRunner()


def test_doctor_reports_each_check_as_json():
    result = runner.invoke(app, ["doctor", "--json"])
    data = json.loads(result.output)
    names = {c["name"] for c in data["checks"]}
    assert {"bwrap", "user namespaces", "per-sample uids", "memory per sample"} <= names
    assert all(c["status"] in ("ok", "warn", "fail") for c in data["checks"])
    failed = [c for c in data["checks"] if c["status"] == "fail"]
    assert result.exit_code == (1 if failed else 0)
    assert all(c["fix"] for c in data["checks"] if c["status"] != "ok")


def test_missing_bwrap_is_a_failed_check_with_its_fix(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    bwrap = next(c for c in json.loads(result.output)["checks"] if c["name"] == "bwrap")
    assert bwrap["status"] == "fail"
    assert "apt-get install -y bubblewrap" in bwrap["fix"]


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_doctor_security_runs_the_fast_attacks_and_says_they_are_contained(monkeypatch):
    # A few of each kind (tests/security runs them all); resources only with --full.
    import tripwire.security as security

    chosen = ("read-proc-1", "protected-links", "net-tcp", "sleep-forever")
    monkeypatch.setattr(security, "ATTACKS", [security.attack_named(n) for n in chosen])
    result = runner.invoke(app, ["doctor", "--security", "--json"])
    data = json.loads(result.output)
    results = data["security"]["results"]
    assert [r["attack"] for r in results] == list(chosen[:3])
    assert all(r["contained"] and r["recorded"] and r["went_on"] for r in results), results
    assert data["security"]["audit_problem"] is None
    assert result.exit_code == 0
    console = Console(width=80, record=True)
    console.print(_attacks_table(security.EscapeReport.model_validate(data["security"])))
    table = console.export_text()
    assert "escape attempts in the bwrap sandbox" in table
    assert "protected-links" in table
    assert max(len(line) for line in table.splitlines()) <= 80
