"""Where supervised runs live on the host, and how another terminal stops one.

Each run has a directory (mode 0700, never mounted into its sandbox) holding `run.json`,
the audit log and `summary.json`; `run.json` names the control socket `tripwire guard
kill` talks to (in a short temporary directory: socket paths are limited to 107 bytes).
Only the supervisor's user (and root) can reach them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import time
from pathlib import Path

from pydantic import ValidationError

from tripwire._atomic import write_atomic
from tripwire._errors import ConfigError, SandboxError

from ._models import RunState

__all__ = [
    "RUNS_DIR_ENV",
    "KillResult",
    "default_runs_dir",
    "kill_run",
    "list_runs",
    "new_run_id",
    "process_start_ticks",
    "read_state",
    "write_state",
]

RUNS_DIR_ENV = "TRIPWIRE_RUNS_DIR"
"""Environment variable naming the runs directory; overrides the default."""

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KILL_TIMEOUT = 5.0


def default_runs_dir() -> Path:
    """`$TRIPWIRE_RUNS_DIR`, else `$XDG_STATE_HOME/tripwire/runs` (`~/.local/state/...`)."""
    env = os.environ.get(RUNS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "tripwire" / "runs"


def new_run_id() -> str:
    """A sortable, unique run name such as `20261201-031500-3fa9c1`."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def _run_dir(runs_dir: Path, run_id: str) -> Path:
    if not _RUN_ID.fullmatch(run_id):
        raise ConfigError(f"{run_id!r} is not a run id (see `tripwire guard runs`)")
    return runs_dir / run_id


def write_state(directory: Path, state: RunState) -> None:
    """Replace `run.json` atomically."""
    write_atomic(directory / "run.json", state.model_dump_json(indent=2))


def read_state(runs_dir: Path, run_id: str) -> RunState:
    """The state of one run.

    Raises:
        ConfigError: No such run, or its `run.json` is unreadable.
    """
    path = _run_dir(runs_dir, run_id) / "run.json"
    try:
        return RunState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as ex:
        raise ConfigError(
            f"no run {run_id!r} in {runs_dir} (list them with `tripwire guard runs`)"
        ) from ex
    except (OSError, ValidationError) as ex:
        raise ConfigError(f"cannot read {path}: {ex}") from ex


def list_runs(runs_dir: Path) -> list[RunState]:
    """Every run with a readable `run.json`, oldest first."""
    states = []
    if runs_dir.is_dir():
        for child in sorted(runs_dir.iterdir()):
            with contextlib.suppress(ConfigError):
                states.append(read_state(runs_dir, child.name))
    return states


def process_start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks since boot), or None if there is no such process.

    Read after the command name, which is in parentheses and may hold anything.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


class KillResult:
    """What `kill_run` did."""

    def __init__(self, run_id: str, how: str, milliseconds: float | None) -> None:
        self.run_id = run_id
        self.how = how
        """`supervisor` (it stopped the run and logged it), `direct` (no supervisor
        answered; the sandbox was killed from here) or `not-running`."""
        self.milliseconds = milliseconds
        """The supervisor's measured time from the request to the sandbox gone."""


def kill_run(runs_dir: Path, run_id: str, *, reason: str = "operator") -> KillResult:
    """Stop a run from outside: ask its supervisor, or kill its sandbox directly.

    Raises:
        ConfigError: No such run.
        SandboxError: The run is alive but could not be stopped.
    """
    directory = _run_dir(runs_dir, run_id)
    state = read_state(runs_dir, run_id)
    if state.status not in ("starting", "running"):
        return KillResult(run_id, "not-running", None)
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(_KILL_TIMEOUT)
            client.connect(state.control_socket or str(directory / "control.sock"))
            client.sendall(("kill " + " ".join(reason.split())[:200] + "\n").encode())
            reply = client.makefile("rb").readline().decode(errors="replace").split()
        if reply[:1] == ["killed"]:
            return KillResult(run_id, "supervisor", float(reply[1]) if len(reply) > 1 else None)
    except (OSError, ValueError, IndexError):
        pass
    # No supervisor answered: it crashed or hangs. The sandbox's pid 1 takes every
    # process of its namespace with it.
    if state.sandbox_pid is None:
        raise SandboxError(f"run {run_id}: the supervisor does not answer and no sandbox pid")
    if process_start_ticks(state.sandbox_pid) != state.sandbox_start_ticks:
        return KillResult(run_id, "not-running", None)  # gone, its pid perhaps reused
    try:
        os.kill(state.sandbox_pid, signal.SIGKILL)
    except ProcessLookupError:
        return KillResult(run_id, "not-running", None)
    except PermissionError as ex:
        raise SandboxError(
            f"run {run_id}: not allowed to kill pid {state.sandbox_pid}; run as its owner"
        ) from ex
    return KillResult(run_id, "direct", None)
