"""Reports of a run: terminal tables, results files and the HTML report."""

from ._files import RESULTS_CSV, RESULTS_JSONL, read_results, write_results
from ._html import write_html_report
from ._paper import PaperRow, load_published, paper_rows, paper_table
from ._table import (
    calibration_table,
    deferred_calibration_table,
    format_ci,
    format_percent,
    rate_table,
    sandbagging_table,
)

__all__ = [
    "PaperRow",
    "load_published",
    "paper_rows",
    "paper_table",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "calibration_table",
    "deferred_calibration_table",
    "format_ci",
    "format_percent",
    "rate_table",
    "sandbagging_table",
    "read_results",
    "write_html_report",
    "write_results",
]
