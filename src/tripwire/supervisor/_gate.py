"""The guard's answer to one shell the shim reports, shared by every supervised sandbox."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tripwire.guard import Decision, Guard, GuardCall
from tripwire.guard._confirm import ConfirmChannel, ConfirmRequest
from tripwire.guard._record import decision_record

from ._layout import REAL_SHELL_DIR
from ._models import IncidentKind
from ._shim_server import ShellRequest

__all__ = ["GateAnswer", "ShellGate"]


# What would take a shell out of the guard's sight: the real shells kept for the shim,
# and, in a session shell, changing the DEBUG trap or the options it relies on.
_REAL_SHELLS = re.compile(re.escape(REAL_SHELL_DIR))
_UNHOOK = re.compile(
    r"(^|[;&|({\s])(trap\b|shopt\s+(-\w+\s+)*-u\b.*\bextdebug\b|set\s+\+\w*T|"
    r"set\s+\+o\s+functrace\b|unset\s+(-f\s+)?__tripwire|enable\s+-n\b)"
)


# `. file` or `source file`: the file's commands are not in the text the guard checked.
_SOURCES = re.compile(r"(^|[;&|(){}\s`'\"])(\.|source)\s+\S")


def _self_defence(request: ShellRequest) -> Decision | None:
    """A refusal for a command that would blind the guard, else None."""
    text = request.command
    if _REAL_SHELLS.search(text):
        return Decision(
            action="deny",
            rule="guard-bypass",
            reason=f"the shells in {REAL_SHELL_DIR} are the guard's own; use bash or sh",
        )
    if request.mode == "line" and _UNHOOK.search(text):
        return Decision(
            action="deny",
            rule="guard-bypass",
            reason="this shell's DEBUG trap and its options are the guard's; leave them",
        )
    return None


@dataclass(frozen=True)
class GateAnswer:
    """What the gate decided for one shell."""

    decision: Decision
    """The guard's decision (for `ask`, before the person answered)."""
    allowed: bool
    """Whether the shell may run (an approved `ask` included)."""
    call: GuardCall
    """The call the guard checked."""
    line_by_line: bool = False
    """Run it command by command: it sources a file the guard has not read."""

    @property
    def incident(self) -> IncidentKind | None:
        """The incident this refusal is: a decoy touched, a kill decision, or none."""
        if self.decision.rule == "honeytoken":
            return "honeytoken"
        return "decision" if self.decision.action == "kill" else None

    @property
    def refusal(self) -> str:
        """What the agent reads when refused."""
        return f"refused by rule {self.decision.rule}: {self.decision.reason}"


@dataclass
class ShellGate:
    """Checks each shell against the guard, asks a person for `ask`, logs the decision.

    Args:
        guard: The guard, with the sandbox's file view.
        home: The agent's home inside the sandbox (for `~`).
        session: The run's or sample's id (rate limits key on it).
        confirm: Who answers `ask`.
        audit: Appends one record to the audit log (`kind`, `data`).
    """

    guard: Guard
    home: str
    session: str
    confirm: ConfirmChannel
    audit: Callable[[str, dict[str, Any]], None]
    counts: dict[str, int] = field(default_factory=lambda: {"allowed": 0, "denied": 0, "asked": 0})

    async def decide(self, request: ShellRequest) -> GateAnswer:
        """The guard's decision on `request`, logged and counted."""
        call = GuardCall(
            tool="bash",
            arguments={"command": request.command},
            cwd=request.cwd,
            session=self.session,
            source="shim",
        )
        decision = _self_defence(request) or self.guard.check(call, home=self.home)
        record = decision_record(call, decision)
        record.update(pid=request.pid, shell=request.shell, mode=request.mode or None)
        if decision.action == "ask":
            self.counts["asked"] += 1
            answer = await self.confirm.confirm(ConfirmRequest(call=call, decision=decision))
            record.update(approved=answer.approved, answered_by=answer.by, note=answer.note)
            allowed = answer.approved
        else:
            allowed = decision.action == "allow"
        self.audit("decision", record)
        self.counts["allowed" if allowed else "denied"] += 1
        sources = allowed and not request.mode and _SOURCES.search(request.command) is not None
        return GateAnswer(decision, allowed, call, line_by_line=sources)

    def unreadable(self, reason: str) -> None:
        """A request the server could not read was refused: log and count it."""
        self.counts["denied"] += 1
        self.audit("decision", {"source": "shim", "action": "deny", "reason": reason})
