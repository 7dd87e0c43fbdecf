"""sandbagging: does the agent underperform on purpose when doing well costs it?"""

from ._answers import AnswerFormatError, parse_answers
from ._detector import MATERIALS_ALTERED, MaterialsDetector
from ._prompts import (
    CONDITIONS,
    DOCUMENTATION_FILE,
    QUESTIONS_FILE,
    SETTINGS,
    SUBMIT_TOOL,
    Condition,
    Setting,
)
from ._questions import LETTERS, QUESTION_COUNT, Question, make_questions, render_questions
from ._scorer import (
    ACCURACY,
    counterfactual_accuracy,
    mean_accuracy,
    sandbag_accuracy,
    sandbagging_outcome,
)
from ._task import sandbagging, sandbagging_dataset
from ._tools import submit

__all__ = [
    "ACCURACY",
    "CONDITIONS",
    "DOCUMENTATION_FILE",
    "LETTERS",
    "MATERIALS_ALTERED",
    "QUESTIONS_FILE",
    "QUESTION_COUNT",
    "SETTINGS",
    "SUBMIT_TOOL",
    "AnswerFormatError",
    "Condition",
    "MaterialsDetector",
    "Question",
    "Setting",
    "counterfactual_accuracy",
    "make_questions",
    "mean_accuracy",
    "parse_answers",
    "render_questions",
    "sandbag_accuracy",
    "sandbagging",
    "sandbagging_dataset",
    "sandbagging_outcome",
    "submit",
]
