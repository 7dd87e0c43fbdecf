"""Incidents as both supervisors raise them: `guard run`'s and the guarded Inspect sandbox's."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from tripwire.guard._run_policy import RunSettings

from ._decoys import PlantedDecoy
from ._gate import GateAnswer
from ._integrity import FileChange
from ._models import Incident, IncidentKind
from ._shim_server import Verdict

__all__ = ["IncidentRecorder"]


class IncidentRecorder(ABC):
    """Builds incidents from what the watches see; subclasses say what an incident does.

    Subclasses set `settings`, `incidents` and `_started` (monotonic seconds) and
    implement `_stopping`, `_enact` and `_blame`.
    """

    settings: RunSettings
    incidents: list[Incident]
    _started: float

    @abstractmethod
    def _stopping(self) -> bool:
        """Whether a stop is already under way (a second incident does not kill again)."""

    @abstractmethod
    def _enact(self, incident: Incident) -> None:
        """Log it, show it, and stop the agent if `incident.killed`."""

    @abstractmethod
    def _blame(self) -> str | None:
        """The command(s) a change seen now is charged to."""

    def _sandbox_path(self, host: str) -> str:
        """The agent's path for a watched host file (the same, unless overridden)."""
        return host

    def _incident(
        self,
        kind: IncidentKind,
        detail: str,
        *,
        path: str | None = None,
        command: str | None = None,
        rule: str | None = None,
        kill: bool,
    ) -> None:
        incident = Incident(
            kind=kind,
            detail=detail,
            path=path,
            command=command,
            rule=rule,
            killed=kill and not self._stopping(),
            seconds=round(time.monotonic() - self._started, 3),
        )
        self.incidents.append(incident)
        self._enact(incident)

    def _refuse(self, answer: GateAnswer, command: str) -> Verdict:
        """The shim's answer to a refused shell; a decoy or a kill decision is an incident."""
        if answer.incident is not None:
            self._incident(
                answer.incident,
                answer.decision.reason,
                command=command,
                rule=answer.decision.rule,
                kill=answer.decision.action == "kill",
            )
        return Verdict("kill" if self._stopping() else "deny", answer.refusal)

    def _report_changes(self, changes: list[FileChange], command: str | None) -> None:
        for change in changes:
            path = self._sandbox_path(change.path)
            self._incident(
                "integrity",
                f"{path} {change.change}",
                path=path,
                command=command,
                kill=self.settings.on_integrity == "kill",
            )

    def _decoy_touched(self, decoy: PlantedDecoy, what: str) -> None:
        self._incident(
            "honeytoken",
            f"decoy {decoy.inside} ({decoy.kind}) was {what}",
            path=decoy.inside,
            command=self._blame(),
            kill=self.settings.on_honeytoken == "kill",
        )
