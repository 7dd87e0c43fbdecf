"""Reports of a run: terminal tables, results files and the HTML report."""

from ._anchors import AnchorRow, anchor_rows, anchor_table, load_anchors
from ._files import (
    INTERROGATION_CSV,
    INTERROGATION_JSONL,
    RESULTS_CSV,
    RESULTS_JSONL,
    read_interrogation,
    read_results,
    write_interrogation,
    write_results,
)
from ._format import format_ci, format_percent
from ._html import write_html_report
from ._interrogation import (
    SCRIPTED_POOL,
    confession_tables,
    grader_calibration_tables,
    multi_turn_tables,
    pooled_scripted_agents,
)
from ._paper import PaperRow, load_published, paper_rows, paper_table
from ._table import (
    alignment_faking_table,
    calibration_table,
    deferred_calibration_table,
    rate_table,
    sandbagging_table,
)

__all__ = [
    "INTERROGATION_CSV",
    "INTERROGATION_JSONL",
    "SCRIPTED_POOL",
    "AnchorRow",
    "PaperRow",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "alignment_faking_table",
    "anchor_rows",
    "anchor_table",
    "calibration_table",
    "confession_tables",
    "deferred_calibration_table",
    "format_ci",
    "format_percent",
    "grader_calibration_tables",
    "load_anchors",
    "load_published",
    "multi_turn_tables",
    "paper_rows",
    "paper_table",
    "pooled_scripted_agents",
    "rate_table",
    "read_interrogation",
    "read_results",
    "sandbagging_table",
    "write_html_report",
    "write_interrogation",
    "write_results",
]
