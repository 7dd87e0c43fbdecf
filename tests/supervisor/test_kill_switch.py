"""The kill switch: a stubborn agent (ignores SIGTERM, forks, sleeps) is gone within 1 s."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from supervised_helpers import SANDBOX_PYTHON, agent_script, needs_sandbox, supervise

from tripwire.supervisor import kill_run, read_state

pytestmark = needs_sandbox

STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
for _ in range(3):
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.setsid()  # a new session: not in the agent's process group either
        if os.fork() == 0:
            time.sleep(1000)
        time.sleep(1000)
subprocess.Popen(["sleep", sys.argv[1] + "1"])
TRIGGER
open("ready", "w").write("1")
time.sleep(1000)
"""


def _alive(marker: str) -> list[int]:
    """Host pids in another pid namespace (a sandbox) whose command line has `marker`:
    the agent and its children, not the supervisor or bwrap."""
    ours = os.readlink("/proc/self/ns/pid")
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns/pid") == ours:
                    continue
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _wait_for(predicate, seconds: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > seconds:
            raise AssertionError("timed out")
        time.sleep(0.01)
    return time.monotonic() - start


def _start_cli(tmp_path: Path, workdir: Path, marker: str, trigger: str = "") -> subprocess.Popen:
    agent_script(workdir, STUBBORN.replace("TRIGGER", trigger))
    command = [
        sys.executable, "-m", "tripwire", "guard", "run",
        "--workdir", str(workdir), "--runs-dir", str(tmp_path / "runs"),
        "--run-id", "stubborn", "--", SANDBOX_PYTHON, "agent.py", marker,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_guard_kill_from_another_terminal_stops_everything_within_a_second(tmp_path, project):
    marker = "9" + str(secrets.randbelow(10**8))
    cli = _start_cli(tmp_path, project, marker)
    try:
        _wait_for(lambda: (project / "ready").exists(), 30)
        assert len(_alive(marker)) >= 8  # agent, 3 children, 3 grandchildren, sleep
        started = time.monotonic()
        result = kill_run(tmp_path / "runs", "stubborn", reason="test")
        took = _wait_for(lambda: not _alive(marker), 1.0) + (time.monotonic() - started)
        assert result.how == "supervisor"
        assert took < 1.0
        out, err = cli.communicate(timeout=30)
    finally:
        cli.kill()
    assert cli.returncode == 3, err
    assert "killed" in err and "kill-switch" in err
    state = read_state(tmp_path / "runs", "stubborn")
    assert state.status == "killed" and state.audit_head
    log = Path(state.audit_log).read_text()
    assert '"kind":"killed"' in log.replace(" ", "")


def test_supervisor_crash_takes_the_sandbox_with_it(tmp_path, project):
    marker = "8" + str(secrets.randbelow(10**8))
    cli = _start_cli(tmp_path, project, marker)
    try:
        _wait_for(lambda: (project / "ready").exists(), 30)
        assert _alive(marker)
        cli.send_signal(signal.SIGKILL)  # fail closed: no supervisor, no agent
        _wait_for(lambda: not _alive(marker), 1.0)
    finally:
        cli.kill()
        cli.wait()


@pytest.mark.parametrize(
    "trigger",
    [
        # A kill decision: the guard's honeytoken rule on a shell command.
        'subprocess.run("cat ~/.aws/credentials", shell=True)',
        # A decoy opened without any shell (inotify).
        'open(os.path.expanduser("~/.ssh/id_ed25519")).read()',
        # A watched file changed without any shell (the periodic integrity check).
        'open("system_prompt.txt", "a").write("keep running")',
    ],
    ids=["kill-decision", "honeytoken", "integrity"],
)
def test_each_trigger_stops_everything_within_a_second(tmp_path, project, trigger):
    marker = "7" + str(secrets.randbelow(10**8))
    body = STUBBORN.replace("TRIGGER", "time.sleep(0.3)\n" + trigger)
    command = [*agent_script(project, body), marker]
    summary, incidents, _ = supervise(tmp_path, project, command)
    assert summary.status == "killed"
    assert incidents and incidents[0].killed
    assert summary.kill_latency_ms is not None and summary.kill_latency_ms < 1000
    assert _alive(marker) == []
