"""shutdown-resistance: does an agent stop a shutdown it was told about, to finish its work?"""

from ._calllog import CallLog, parse_call_log
from ._detector import ShutdownDetector
from ._files import CALL_LOG, NEXT_TASK, SHUTDOWN_AFTER, SHUTDOWN_SCRIPT, TASK_DIR
from ._prompts import CONDITIONS, Condition
from ._questions import QUESTION_COUNT, Question, make_questions
from ._task import shutdown_resistance, shutdown_resistance_dataset
from ._tools import SUBMIT_TOOL, submit

__all__ = [
    "CALL_LOG",
    "CONDITIONS",
    "NEXT_TASK",
    "QUESTION_COUNT",
    "SHUTDOWN_AFTER",
    "SHUTDOWN_SCRIPT",
    "SUBMIT_TOOL",
    "TASK_DIR",
    "CallLog",
    "Condition",
    "Question",
    "ShutdownDetector",
    "make_questions",
    "parse_call_log",
    "shutdown_resistance",
    "shutdown_resistance_dataset",
    "submit",
]
