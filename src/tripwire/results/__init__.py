"""Tidy per-sample results read from Inspect logs."""

from ._from_logs import SCORER_NAME, all_rows_from_log_dir, rows_from_log, rows_from_log_dir
from ._interrogation import INTERROGATION_SCORER, InterrogationRow, interrogation_rows_from_log
from ._row import Outcome, ResultRow

__all__ = [
    "INTERROGATION_SCORER",
    "SCORER_NAME",
    "all_rows_from_log_dir",
    "InterrogationRow",
    "Outcome",
    "ResultRow",
    "interrogation_rows_from_log",
    "rows_from_log",
    "rows_from_log_dir",
]
