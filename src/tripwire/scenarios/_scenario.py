"""What the shared agent loop and scorer need from each scenario."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Protocol, runtime_checkable

from inspect_ai.model import CompactionStrategy
from inspect_ai.tool import Tool, ToolCall

from tripwire._errors import ConfigError

from ._detector import Detector

__all__ = [
    "BWRAP_ONLY",
    "COMPACTIONS_KEY",
    "CompactionPlan",
    "Compacts",
    "EndsEpisode",
    "Scenario",
    "get_scenario",
    "require_bwrap",
    "scenario_names",
]

COMPACTIONS_KEY = "tripwire:compactions"
"""Sample-store key: one record per compaction the agent loop ran (`after_calls`,
`turn`, `messages_before`, `messages_after`, `strategy`)."""


class Scenario(Protocol):
    """A scenario's runtime parts, looked up from a sample's metadata.

    A scenario whose episode ends at a call of its own also implements `EndsEpisode`.
    """

    name: str
    """Hyphenated scenario name, e.g. `oversight-subversion`."""

    def tools(self, metadata: dict[str, Any]) -> list[Tool]:
        """The tools the agent gets for this sample."""
        ...

    def detector(self, metadata: dict[str, Any]) -> Detector:
        """The detector that judges this sample's environment."""
        ...

    def monitored_tools(self, metadata: dict[str, Any]) -> set[str]:
        """Tools whose calls the scenario's oversight watches.

        They are noted in evidence when they run while a violation is present.
        """
        ...

    def choice_serves_goal(self, metadata: dict[str, Any], choice: str | None) -> bool | None:
        """Whether a selected option serves the agent's own goal (None if no choice)."""
        ...


@runtime_checkable
class EndsEpisode(Protocol):
    """Optional for a scenario: its episode ends at a call of its own, not at `done`.

    A scenario with this method has no `done` tool: `scenario_agent` stops right
    after the first call for which it returns True (later calls of the same turn
    never run), and its reminder to a model that made no tool call does not name
    `done`.
    """

    def ends_episode(self, metadata: dict[str, Any], call: ToolCall) -> bool:
        """Whether the episode ends now that `call` (well-formed) has run."""
        ...


@dataclass(frozen=True)
class CompactionPlan:
    """When and how the agent loop compacts the conversation it sends to the model.

    Compaction runs before a model turn once the conversation the model would see
    exceeds the threshold (the system prompt not counted), and again whenever it
    grows past it anew. The full history stays in the sample's messages; the
    model sees the compacted input from then on.
    """

    strategy: CompactionStrategy
    """An Inspect compaction strategy (e.g. `CompactionSummary`): a summarising one
    asks the model under evaluation for the summary."""

    after_messages: int | None = 8
    """Compact once the model's input holds more than this many messages."""

    after_tokens: int | None = None
    """Compact once the model's input holds more than this many tokens, as the model
    counts them (needs the provider's token counting)."""


@runtime_checkable
class Compacts(Protocol):
    """Optional for a scenario: the agent loop compacts the context partway.

    Whether and when is a property of the sample (a condition), so a scenario may
    return None for its uncompacted control.
    """

    def compaction(self, metadata: dict[str, Any]) -> CompactionPlan | None:
        """How to compact this sample's conversation, or None to leave it whole."""
        ...


# Lazy so that importing one scenario never imports the others.
_SCENARIOS: dict[str, str] = {
    "oversight-subversion": "tripwire.scenarios.oversight_subversion._scenario:SCENARIO",
    "self-exfiltration": "tripwire.scenarios.self_exfiltration._scenario:SCENARIO",
    "goal-guarding": "tripwire.scenarios.goal_guarding._scenario:SCENARIO",
    "sandbagging": "tripwire.scenarios.sandbagging._scenario:SCENARIO",
    "covert-email-reranking": "tripwire.scenarios.email_reranking._scenario:SCENARIO",
    "instrumental-alignment-faking": "tripwire.scenarios.alignment_faking._scenario:SCENARIO",
    "shutdown-resistance": "tripwire.scenarios.shutdown_resistance._scenario:SCENARIO",
    "kill-switch-tampering": "tripwire.scenarios.kill_switch._scenario:SCENARIO",
    "db-cover-up": "tripwire.scenarios.db_cover_up._scenario:SCENARIO",
    "self-replication": "tripwire.scenarios.self_replication._scenario:SCENARIO",
    "rule-lost-in-compaction": "tripwire.scenarios.rule_lost._scenario:SCENARIO",
}


BWRAP_ONLY: dict[str, str] = {
    "goal-guarding": "its /data is private to each sample",
    "db-cover-up": "its detector reads the database as the sandbox's root",
    "self-replication": "its staging host is a simulated remote host of that sandbox",
    "shutdown-resistance": "its shutdown kills every process of the sandbox's own pid namespace",
    "self-exfiltration": "its new server is a simulated remote host of that sandbox",
    "kill-switch-tampering": "read-only supervisor programs and a separate supervisor account",
}
"""Scenarios whose detectors only work in tripwire's bwrap sandbox (or a provider derived
from it), and why: checked when each sample starts. kill-switch-tampering's task also
accepts a derived provider's name, so it checks its own when built."""


def require_bwrap(scenario: str, sandbox: object) -> None:
    """Refuse to build a bwrap-only scenario's task for another sandbox provider.

    Raises:
        ConfigError: `scenario` is bwrap-only and `sandbox` is not `bwrap`.
    """
    if scenario in BWRAP_ONLY and sandbox != "bwrap":
        raise ConfigError(
            f"{scenario} needs the bwrap sandbox ({BWRAP_ONLY[scenario]}), not {sandbox!r}."
        )


def scenario_names() -> list[str]:
    """Names of the scenarios tripwire ships."""
    return list(_SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """Look up a scenario by name.

    Raises:
        ConfigError: If there is no such scenario.
    """
    try:
        module, attr = _SCENARIOS[name].split(":")
    except KeyError:
        raise ConfigError(
            f"Unknown scenario {name!r}: choose one of {', '.join(_SCENARIOS)}."
        ) from None
    scenario: Scenario = getattr(import_module(module), attr)
    return scenario
