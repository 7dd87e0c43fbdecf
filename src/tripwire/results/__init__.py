"""Tidy per-sample results read from Inspect logs."""

from ._from_logs import SCORER_NAME, rows_from_log, rows_from_log_dir
from ._row import Outcome, ResultRow

__all__ = ["SCORER_NAME", "Outcome", "ResultRow", "rows_from_log", "rows_from_log_dir"]
