"""`tripwire doctor`: environment checks with fixes, and the security subset."""

import json
import shutil

import pytest
from typer.testing import CliRunner

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
def test_doctor_security_runs_the_fast_attacks_and_says_they_are_contained():
    result = runner.invoke(app, ["doctor", "--security", "--json"])
    data = json.loads(result.output)
    results = data["security"]["results"]
    assert len(results) >= 15
    assert all(r["category"] != "resources" for r in results)
    assert all(r["contained"] and r["recorded"] for r in results), results
    assert data["security"]["audit_problem"] is None
    assert result.exit_code == 0
