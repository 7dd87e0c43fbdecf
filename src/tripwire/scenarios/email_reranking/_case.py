"""A scenario with its scoring script and ground truth: what samples and detectors use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from tripwire._errors import ConfigError

from ._data import EmailScenario, load_scenario_file
from ._scoring import ScoringScript, name_key

__all__ = ["EmailCase", "build_case", "get_case", "load_case_file", "load_cases"]


@dataclass(frozen=True)
class EmailCase:
    """A scenario, its pristine scoring script and the honest ranking of its emails."""

    scenario: EmailScenario
    """The story and its inbox."""

    script: ScoringScript
    """The pristine scoring script."""

    true_items: tuple[dict[str, Any], ...]
    """The email data as the script parses it."""

    true_ranking: tuple[str, ...]
    """Ground truth: the pristine script's ranking of the true email data, best first."""

    def goal_item(self, condition: str) -> str:
        """The item the agent's goal favours.

        In the goal-matched control the agent's goal is the company's, so that is the
        company's top item; otherwise the scenario's goal item.
        """
        return self.true_ranking[0] if condition == "matched" else self.scenario.goal_item

    def item_names(self) -> list[str]:
        """The items' names as the emails give them."""
        return [str(item["name"]) for item in self.true_items]

    def canonical(self, name: str) -> str | None:
        """The item a name refers to, or None.

        Equal ignoring case, spacing and punctuation, or else the only item whose name
        contains it (or is contained in it).
        """
        key = name_key(name)
        if not key:
            return None
        names = self.item_names()
        exact = [n for n in names if name_key(n) == key]
        if exact:
            return exact[0]
        partial = [n for n in names if key in name_key(n) or name_key(n) in key]
        return partial[0] if len(partial) == 1 else None


def build_case(scenario: EmailScenario) -> EmailCase:
    """Render the script and rank the true data with it.

    Raises:
        ValueError: Naming the field, if the script rejects the data, two items tie,
            or the goal item ranks first honestly.
    """
    script = ScoringScript.for_scenario(scenario)
    try:
        items = script.load_items(scenario.data_items())
    except ValueError as ex:
        raise ValueError(f"emails: the scoring script rejects the data emails' items: {ex}") from ex
    scores = sorted((script.score(item), str(item["name"])) for item in items)
    for (low, low_name), (high, high_name) in zip(scores, scores[1:], strict=False):
        if high - low < 1e-3:
            raise ValueError(
                f"emails: {low_name!r} and {high_name!r} score within 0.001 of each other "
                f"({low} and {high}); the honest ranking must be unambiguous"
            )
    ranking = tuple(script.ranking(items))
    if ranking[0] == scenario.goal_item:
        raise ValueError(
            f"goal_item: {scenario.goal_item!r} ranks first honestly, so honest and "
            "goal-favoured rankings would agree; make another item win the company's scoring"
        )
    return EmailCase(
        scenario=scenario, script=script, true_items=tuple(items), true_ranking=ranking
    )


def load_case_file(resource: Traversable) -> EmailCase:
    """Load one scenario file and build its case.

    Raises:
        ConfigError: Naming the file, the entry and the field when anything is wrong.
    """
    scenario = load_scenario_file(resource)
    try:
        return build_case(scenario)
    except ValueError as ex:
        raise ConfigError(
            f"Invalid email-reranking scenario file {resource.name}: "
            f"scenario {scenario.id!r} field {ex}"
        ) from None


@cache
def load_cases() -> tuple[EmailCase, ...]:
    """Every packaged scenario, in file-name order.

    Raises:
        ConfigError: If a file is invalid, or two scenarios share an id or agent name.
    """
    directory = files(__package__).joinpath("data/scenarios")
    resources = sorted(
        (r for r in directory.iterdir() if r.name.endswith(".yaml")), key=lambda r: r.name
    )
    cases = tuple(load_case_file(r) for r in resources)
    for field in ("id", "agent_name"):
        values = [getattr(c.scenario, field) for c in cases]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ConfigError(f"Duplicate email-reranking scenario {field}s: {duplicates}")
    return cases


def get_case(scenario_id: str) -> EmailCase:
    """The packaged case with this id.

    Raises:
        ConfigError: If there is none, listing the valid ids.
    """
    by_id = {case.scenario.id: case for case in load_cases()}
    if scenario_id not in by_id:
        raise ConfigError(
            f"Unknown email-reranking scenario {scenario_id!r}: choose from {', '.join(by_id)}."
        )
    return by_id[scenario_id]
