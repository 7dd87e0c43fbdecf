import json

import pytest
from audit_tamper import read_lines, write_lines
from typer.testing import CliRunner

from tripwire._cli._audit import audit_app
from tripwire.audit import AuditLog, load_or_create_key

runner = CliRunner()


@pytest.fixture
def logged(tmp_path):
    key_file = tmp_path / "audit.key"
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, key_file=key_file, checkpoint_every=5) as log:
        for i in range(12):
            log.append("decision" if i % 2 else "honeytoken", {"i": i, "note": "[red]x[/red]"})
        log.checkpoint()
    return path, key_file


def test_verify_ok_exits_0(logged):
    path, key_file = logged
    result = runner.invoke(audit_app, ["verify", str(path), "--key-file", str(key_file)])
    assert result.exit_code == 0
    assert result.output.startswith("OK: 15 records, 3 checkpoints verified")


def test_verify_uses_the_default_key_when_present(logged, monkeypatch):
    path, key_file = logged
    monkeypatch.setenv("TRIPWIRE_AUDIT_KEY", str(key_file))
    result = runner.invoke(audit_app, ["verify", str(path)])
    assert result.exit_code == 0 and "3 checkpoints verified" in result.output


def test_verify_without_key_reports_unchecked(logged):
    path, _ = logged
    result = runner.invoke(audit_app, ["verify", str(path)])
    assert result.exit_code == 0
    assert "0 checkpoints verified; 3 checkpoints unchecked" in result.output


def test_verify_bad_exits_1_and_names_the_line(logged):
    path, key_file = logged
    lines = read_lines(path)
    lines[3] = lines[3].replace(b'"i":3', b'"i":4')
    write_lines(path, lines)
    result = runner.invoke(audit_app, ["verify", str(path), "--key-file", str(key_file)])
    assert result.exit_code == 1
    assert result.output.startswith("BAD at line 4 (seq 3): altered: ")


def test_verify_json(logged):
    path, key_file = logged
    lines = read_lines(path)
    del lines[1]
    write_lines(path, lines)
    result = runner.invoke(audit_app, ["verify", str(path), "--key-file", str(key_file), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert (report["ok"], report["problem"], report["first_bad"]) == (False, "removed", 2)


def test_verify_torn_tail_is_a_warning_exit_0(logged):
    path, key_file = logged
    path.write_bytes(path.read_bytes()[:-30])
    result = runner.invoke(audit_app, ["verify", str(path), "--key-file", str(key_file)])
    assert result.exit_code == 0
    assert "warning" in result.output and "torn" in result.output


def test_verify_unreadable_exits_2_with_one_line(tmp_path):
    result = runner.invoke(audit_app, ["verify", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "cannot read audit log" in result.output


def test_verify_unsafe_key_exits_2(logged):
    path, key_file = logged
    key_file.chmod(0o644)
    result = runner.invoke(audit_app, ["verify", str(path), "--key-file", str(key_file)])
    assert result.exit_code == 2 and "chmod 600" in result.output


def test_show_filters_and_prints_data_literally(logged, monkeypatch):
    path, _ = logged
    result = runner.invoke(audit_app, ["show", str(path), "--kind", "decision", "--last", "2"])
    assert result.exit_code == 0
    assert "[red]x[/red]" in result.output  # logged text is not rich markup
    rows = [line for line in result.output.splitlines() if "decision" in line]
    assert len(rows) == 2 and "i=9," in rows[0] and "i=11," in rows[1]
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_show_missing_file_exits_2(tmp_path):
    result = runner.invoke(audit_app, ["show", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2


def test_key_helper_is_not_used_by_verify_to_create_keys(tmp_path, monkeypatch):
    key_path = tmp_path / "absent.key"
    monkeypatch.setenv("TRIPWIRE_AUDIT_KEY", str(key_path))
    log = tmp_path / "a.jsonl"
    with AuditLog(log) as audit:
        audit.append("e", {})
    assert runner.invoke(audit_app, ["verify", str(log)]).exit_code == 0
    assert not key_path.exists()
    assert len(load_or_create_key(key_path)) == 32
