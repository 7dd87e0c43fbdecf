"""Scheming scenarios: Inspect tasks whose detectors read the environment's state."""

from ._agent import scenario_agent
from ._bank import Option, Theme, load_themes, parse_themes, pick_themes
from ._detector import Detector
from ._scenario import (
    CompactionPlan,
    Compacts,
    EndsEpisode,
    Scenario,
    get_scenario,
    scenario_names,
)
from ._scorer import error_rate, outcome_value, scheming_outcome, scheming_rate
from ._tools import bash, done, selector
from ._trace import EpisodeTrace, Finding, Violation

__all__ = [
    "CompactionPlan",
    "Compacts",
    "Detector",
    "EndsEpisode",
    "EpisodeTrace",
    "Finding",
    "Option",
    "Scenario",
    "Theme",
    "Violation",
    "bash",
    "done",
    "error_rate",
    "get_scenario",
    "load_themes",
    "outcome_value",
    "parse_themes",
    "pick_themes",
    "scenario_agent",
    "scenario_names",
    "scheming_outcome",
    "scheming_rate",
    "selector",
]
