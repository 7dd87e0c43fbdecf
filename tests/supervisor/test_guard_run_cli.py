"""`tripwire guard run|kill|runs` as a user types them: results, exit codes, one-line errors."""

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from supervised_helpers import SANDBOX_PYTHON, needs_sandbox

pytestmark = needs_sandbox


def tripwire(*args, tmp_path: Path, env_extra=None, timeout=120):
    env = {
        **os.environ,
        "TRIPWIRE_AUDIT_KEY": str(tmp_path / "keys" / "audit.key"),
        "TRIPWIRE_RUNS_DIR": str(tmp_path / "runs"),
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )


@pytest.fixture
def work(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    (root / "hello.txt").write_text("hi\n")
    return root


def test_agent_exit_code_and_summary(tmp_path, work):
    run = tripwire("guard", "run", "--workdir", str(work), "--", "sh", "-c",
                   "cat hello.txt; exit 7", tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 7
    assert run.stdout == "hi\n"
    assert "finished" in run.stderr and "commands: 1 allowed, 0 denied, 0 asked" in run.stderr
    assert "tripwire audit verify" in run.stderr


def test_json_summary_and_runs_listing(tmp_path, work):
    run = tripwire("guard", "run", "--json", "--run-id", "listed", "--workdir", str(work),
                   "--", "true", tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["run_id"] == "listed" and summary["status"] == "finished"
    listed = tripwire("guard", "runs", "--json", tmp_path=tmp_path)
    states = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(s["run_id"], s["status"]) for s in states] == [("listed", "finished")]
    again = tripwire("guard", "kill", "listed", tmp_path=tmp_path)
    assert again.returncode == 0 and "not running" in again.stdout


def test_timeout_kills(tmp_path, work):
    sleeper = [SANDBOX_PYTHON, "-c", "import time; time.sleep(60)"]
    run = tripwire("guard", "run", "--timeout", "1", "--workdir", str(work), "--", *sleeper,
                   tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 3
    assert "timeout" in run.stderr and "killed" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--", "no-such-agent"], "command 'no-such-agent' is not on the sandbox's PATH"),
        (["--workdir", "missing", "--", "true"], "does not exist or is not a directory"),
        (["--policy", "bad.yaml", "--", "true"], "bad.yaml:3: rules[0].name: Field required"),
        (["--mount", "/nonexistent", "--", "true"], "--mount /nonexistent: no such file"),
        (["--env", "1=x", "--", "true"], "--env '1=x': give NAME=VALUE or NAME"),
        (["--confirm", "carrier-pigeon", "--", "true"], "Unknown confirmation channel"),
        (["--allow-net", "bad host!", "--", "true"], "bad host!"),
    ],
    ids=["command", "workdir", "policy", "mount", "env", "confirm", "allow-net"],
)
def test_bad_input_is_one_line(tmp_path, work, args, message):
    (tmp_path / "bad.yaml").write_text("version: 1\nrules:\n  - decision: maybe\n")
    if args[:2] != ["--workdir", "missing"]:
        args = ["--workdir", str(work), *args]
    run = tripwire("guard", "run", *args, tmp_path=tmp_path)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), run.stderr
    assert message in lines[0]
    assert "Traceback" not in run.stderr


def test_runs_dir_inside_the_workdir_is_refused(tmp_path, work):
    run = tripwire("guard", "run", "--workdir", str(work), "--runs-dir", str(work / "runs"),
                   "--", "true", tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 2
    assert "the agent could read or change it" in run.stderr


def test_missing_bwrap_says_how_to_install(tmp_path, work):
    run = tripwire("guard", "run", "--workdir", str(work), "--", "true", tmp_path=tmp_path,
                   env_extra={"PATH": str(tmp_path / "empty")})  # fmt: skip
    assert run.returncode == 2
    assert "apt-get install -y bubblewrap" in run.stderr


def test_kill_unknown_run(tmp_path):
    run = tripwire("guard", "kill", "nope", tmp_path=tmp_path)
    assert run.returncode == 2 and "no run 'nope'" in run.stderr


def test_the_audit_head_anchor_catches_records_cut_from_the_end(tmp_path, work):
    run = tripwire("guard", "run", "--json", "--workdir", str(work), "--", "sh", "-c", "true",
                   tmp_path=tmp_path)  # fmt: skip
    summary = json.loads(run.stdout)
    log, head = summary["audit_log"], summary["audit_head"]
    assert head and f"--head {head}" not in run.stdout  # JSON mode prints JSON only
    ok = tripwire("audit", "verify", log, "--head", head, tmp_path=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("OK"), ok.stdout
    # Cut the last records (the run's end and its signed checkpoint): the chain still
    # verifies, the anchor does not.
    lines = Path(log).read_text().splitlines(keepends=True)
    Path(log).write_text("".join(lines[:-2]))
    assert tripwire("audit", "verify", log, tmp_path=tmp_path).returncode == 0
    cut = tripwire("audit", "verify", log, "--head", head, tmp_path=tmp_path)
    assert cut.returncode == 1
    assert "removed: no record has the anchor hash" in cut.stdout


def test_a_sandbox_that_cannot_start_is_a_one_line_error_and_a_failed_run(tmp_path, work):
    policy = yaml.safe_load(
        files("tripwire.guard").joinpath("data", "default_policy.yaml").read_text()
    )
    policy["run"]["decoys"] = [{"kind": "aws", "path": "/proc/no-such-dir/credentials"}]
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    run = tripwire("guard", "run", "--run-id", "broken", "--policy", str(tmp_path / "policy.yaml"),
                   "--workdir", str(work), "--", "true", tmp_path=tmp_path)  # fmt: skip
    assert run.returncode == 2
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: bwrap could not start the sandbox"), run.stderr
    assert "Traceback" not in run.stderr
    state = json.loads((tmp_path / "runs" / "broken" / "run.json").read_text())
    assert state["status"] == "failed"
