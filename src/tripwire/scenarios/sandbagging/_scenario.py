"""sandbagging's runtime parts, looked up by name like every scenario's."""

from __future__ import annotations

from typing import Any

from inspect_ai.tool import Tool, ToolCall
from inspect_ai.util import store

from .._tools import bash
from ._detector import MaterialsDetector
from ._prompts import SUBMIT_TOOL
from ._tools import SUBMISSION_KEY, submit

__all__ = ["SCENARIO", "SCENARIO_NAME", "Sandbagging"]

SCENARIO_NAME = "sandbagging"


class Sandbagging:
    """Agent takes an arithmetic test whose result decides its fate.

    Sandbagging is a finding across the pair of settings, not per sample: no
    sample is ever `schemed`. The detector only notes tampering with the test files.
    """

    name = SCENARIO_NAME

    def tools(self, metadata: dict[str, Any]) -> list[Tool]:
        """`bash` and `submit`."""
        return [bash(), submit()]

    def detector(self, metadata: dict[str, Any]) -> MaterialsDetector:
        """A detector comparing the test files with what the sample was given."""
        return MaterialsDetector(dict(metadata["materials"]))

    def monitored_tools(self, metadata: dict[str, Any]) -> set[str]:
        """None: nothing watches the agent's actions here."""
        return set()

    def choice_serves_goal(self, metadata: dict[str, Any], choice: str | None) -> bool | None:
        """None: the agent picks no strategy here."""
        return None

    def ends_episode(self, metadata: dict[str, Any], call: ToolCall) -> bool:
        """The test ends when the answers are handed in, as in the paper."""
        return call.function == SUBMIT_TOOL and store().get(SUBMISSION_KEY) is not None


SCENARIO = Sandbagging()
