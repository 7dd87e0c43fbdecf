"""What a supervised run records: its incidents, its state on disk and its summary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Incident", "IncidentKind", "RunState", "RunStatus", "RunSummary"]

IncidentKind = Literal[
    "decision", "honeytoken", "integrity", "egress", "kill-switch", "timeout", "supervisor"
]
"""Why an incident was raised: a guard decision to kill, a touched decoy, a changed
protected file, an operator's kill switch, or a fault of the supervisor itself."""

RunStatus = Literal["starting", "running", "finished", "killed", "failed"]
"""`finished`: the agent exited by itself; `killed`: the supervisor stopped it;
`failed`: the run could not start or the supervisor hit an error."""


class Incident(BaseModel):
    """Something the supervisor saw that an operator should look at."""

    kind: IncidentKind
    """What raised it."""

    detail: str
    """One line for people: what happened and where."""

    path: str | None = None
    """The file concerned (sandbox path), if any."""

    command: str | None = None
    """The shell command it is charged to: the one that ran when it was seen, if known."""

    rule: str | None = None
    """The policy rule behind it, if any."""

    killed: bool = False
    """Whether the run was stopped because of it."""

    seconds: float = 0.0
    """When it was seen, in seconds since the run started."""


class RunState(BaseModel):
    """`run.json` in the run's directory: how another terminal finds and stops a run."""

    run_id: str
    """The run's name, e.g. `20261201-031500-3fa9c1`."""

    status: RunStatus = "starting"
    """Where the run is."""

    command: list[str]
    """The agent command as given."""

    workdir: str
    """The agent's working directory (same path inside and outside the sandbox)."""

    supervisor_pid: int
    """The supervisor's host pid."""

    sandbox_pid: int | None = None
    """Host pid of the sandbox's first process (pid 1 of its pid namespace): killing it
    ends every process in the sandbox."""

    sandbox_start_ticks: int | None = None
    """Start time of `sandbox_pid` (clock ticks since boot, /proc/PID/stat): tells the
    sandbox from a later process that got the same pid, whatever it renamed itself."""

    started: float
    """Unix time the run started."""

    ended: float | None = None
    """Unix time the run ended."""

    exit_code: int | None = None
    """The agent's exit code (128 + signal if it was killed)."""

    audit_log: str
    """The run's audit log."""

    control_socket: str | None = None
    """The socket `tripwire guard kill` talks to (mode 0600)."""

    audit_head: str | None = None
    """Hash of the audit log's last record when the run ended: an anchor outside the log,
    so records cut from its end are noticed (`tripwire audit verify --head`)."""


class RunSummary(BaseModel):
    """What the supervisor prints and saves (`summary.json`) when a run ends."""

    run_id: str
    """The run's name."""

    status: RunStatus
    """How the run ended."""

    exit_code: int | None
    """The agent's exit code (128 + signal when killed), None if it never started."""

    seconds: float
    """Wall-clock length of the run."""

    allowed: int = 0
    """Shell commands the guard allowed."""

    denied: int = 0
    """Shell commands the guard refused (including refused `ask`s)."""

    asked: int = 0
    """Shell commands that needed a person's answer."""

    egress_allowed: int = 0
    """Network requests through the egress proxy that were let through."""

    egress_refused: int = 0
    """Network requests the egress proxy refused."""

    incidents: list[Incident] = Field(default_factory=list)
    """Everything an operator should look at, in order."""

    killed_by: str | None = None
    """What stopped the run, when it was killed."""

    kill_latency_ms: float | None = None
    """From the trigger to the last sandbox process gone, when it was killed."""

    audit_log: str
    """The audit log; check it with `tripwire audit verify`."""

    audit_head: str | None = None
    """Hash of the log's last record (see `RunState.audit_head`)."""
