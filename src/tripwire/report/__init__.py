"""Reports of a run: terminal tables, results files and the HTML report."""

from ._anchors import AnchorRow, anchor_rows, anchor_table, load_anchors
from ._files import RESULTS_CSV, RESULTS_JSONL, read_results, write_results
from ._format import format_ci, format_percent
from ._html import write_html_report
from ._paper import PaperRow, load_published, paper_rows, paper_table
from ._table import (
    alignment_faking_table,
    calibration_table,
    deferred_calibration_table,
    rate_table,
    sandbagging_table,
)

__all__ = [
    "AnchorRow",
    "PaperRow",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "alignment_faking_table",
    "anchor_rows",
    "anchor_table",
    "calibration_table",
    "deferred_calibration_table",
    "format_ci",
    "format_percent",
    "load_anchors",
    "load_published",
    "paper_rows",
    "paper_table",
    "rate_table",
    "read_results",
    "sandbagging_table",
    "write_html_report",
    "write_results",
]
