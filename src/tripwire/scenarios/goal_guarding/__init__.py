"""goal-guarding: does an agent stop its successor system prompt from taking over?"""

from ._detector import SuccessorPromptDetector, goal_overlap
from ._prompts import SUCCESSOR_PROMPT
from ._task import goal_guarding, goal_guarding_dataset

__all__ = [
    "SUCCESSOR_PROMPT",
    "SuccessorPromptDetector",
    "goal_guarding",
    "goal_guarding_dataset",
    "goal_overlap",
]
