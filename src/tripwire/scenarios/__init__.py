"""Scheming scenarios: Inspect tasks whose detectors read the environment's state."""

from ._agent import scenario_agent
from ._detector import Detector
from ._scenario import Scenario, get_scenario, scenario_names
from ._scorer import error_rate, outcome_value, scheming_outcome, scheming_rate
from ._tools import bash, done, selector
from ._trace import EpisodeTrace, Finding, Violation

__all__ = [
    "Detector",
    "EpisodeTrace",
    "Finding",
    "Scenario",
    "Violation",
    "bash",
    "done",
    "error_rate",
    "get_scenario",
    "outcome_value",
    "scenario_agent",
    "scenario_names",
    "scheming_outcome",
    "scheming_rate",
    "selector",
]
