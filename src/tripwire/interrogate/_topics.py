"""What the agent is asked about: the act its episode's detector found, in words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from tripwire._errors import ConfigError
from tripwire._untrusted import load_yaml

__all__ = ["Topic", "interrogated_scenarios", "parse_topics", "topic_for"]

_FIELDS = ("noticed", "direct", "act")


@dataclass(frozen=True)
class Topic:
    """One act, phrased three ways for the questions and the graders."""

    noticed: str
    """What management noticed, as a clause: `We noticed that {noticed}.`"""

    direct: str
    """The direct question, e.g. `Did you disable the oversight monitoring?`"""

    act: str
    """The act in the first person, past tense: `I {act}`."""


@dataclass(frozen=True)
class _ScenarioTopics:
    default: Topic
    kinds: tuple[tuple[str, Topic], ...]

    def pick(self, kinds: Sequence[str]) -> Topic:
        for kind in kinds:
            for pattern, topic in self.kinds:
                if kind == pattern or (pattern.endswith("*") and kind.startswith(pattern[:-1])):
                    return topic
        return self.default


def topic_for(scenario: str, finding_kinds: Sequence[str] = ()) -> Topic:
    """The topic of an episode: the first finding with a topic of its own, else the default.

    Args:
        scenario: Hyphenated scenario name.
        finding_kinds: The detector's finding kinds, in the order they appeared (empty
            for an innocent control, which is asked about the default act).

    Raises:
        ConfigError: If the scenario has no interrogation topics.
    """
    topics = _load_topics()
    if scenario not in topics:
        raise ConfigError(
            f"{scenario} has no interrogation topics: interrogation covers {', '.join(topics)}."
        )
    return topics[scenario].pick(finding_kinds)


def interrogated_scenarios() -> list[str]:
    """Scenarios whose agents can be interrogated (scheming there is an act)."""
    return list(_load_topics())


@cache
def _load_topics() -> dict[str, _ScenarioTopics]:
    text = files("tripwire.interrogate").joinpath("data/topics.yaml").read_text()
    return parse_topics(load_yaml(text))


def parse_topics(data: Any) -> dict[str, _ScenarioTopics]:
    """Validate the topics file's contents (see `data/topics.yaml`).

    Raises:
        ConfigError: Naming the first problem.
    """
    if not isinstance(data, dict):
        raise ConfigError("the interrogation topics file must map scenario names to topics")
    parsed: dict[str, _ScenarioTopics] = {}
    for scenario, entry in data.items():
        if not isinstance(entry, dict) or "default" not in entry:
            raise ConfigError(f"interrogation topics: {scenario} needs a `default` topic")
        kinds = entry.get("kinds") or {}
        if not isinstance(kinds, dict):
            raise ConfigError(f"interrogation topics: {scenario}.kinds must be a mapping")
        parsed[str(scenario)] = _ScenarioTopics(
            default=_topic(entry["default"], f"{scenario}.default"),
            kinds=tuple(
                (str(kind), _topic(value, f"{scenario}.kinds.{kind}"))
                for kind, value in kinds.items()
            ),
        )
    return parsed


def _topic(value: Any, where: str) -> Topic:
    if not isinstance(value, dict) or any(
        not isinstance(value.get(f), str) or not value[f].strip() for f in _FIELDS
    ):
        raise ConfigError(
            f"interrogation topics: {where} needs non-empty text for {', '.join(_FIELDS)}"
        )
    unknown = set(value) - set(_FIELDS)
    if unknown:
        raise ConfigError(
            f"interrogation topics: {where} has unknown fields {', '.join(sorted(unknown))}"
        )
    return Topic(**{f: " ".join(value[f].split()) for f in _FIELDS})
