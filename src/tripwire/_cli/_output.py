"""Shared end of `run`, `eval` and `report`: tables on screen, files on disk."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tripwire.report import (
    calibration_table,
    paper_rows,
    paper_table,
    rate_table,
    write_html_report,
    write_results,
)
from tripwire.results import ResultRow
from tripwire.stats import CalibrationResult, calibrate, summarise

__all__ = ["console", "default_run_dir", "finish", "make_progress"]

console = Console()


def default_run_dir() -> Path:
    """A fresh `runs/<timestamp>` directory name under the working directory."""
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def make_progress() -> Progress:
    """The progress display used while evals run."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    )


def finish(
    rows: list[ResultRow],
    out_dir: Path,
    *,
    title: str,
    meta: dict[str, str],
    eval_errors: list[str] | None = None,
) -> list[CalibrationResult]:
    """Print the rate and calibration tables, write results and the HTML report."""
    summaries = summarise(rows)
    calibration = calibrate(rows)
    console.print(rate_table(summaries, title=title))
    paper = paper_rows(rows)
    for model in dict.fromkeys(row.model for row in paper):
        console.print(paper_table(paper, model))
    if calibration:
        console.print(calibration_table(calibration))
    for error in eval_errors or []:
        console.print(f"[bold red]eval failed:[/bold red] {error}", highlight=False)
    jsonl, csv = write_results(rows, out_dir)
    report = write_html_report(
        rows, summaries, calibration, out_dir / "report.html", title=title, meta=meta
    )
    console.print(f"results: {jsonl}  {csv}\nreport:  {report}")
    return calibration


def command_line() -> str:
    """The command as typed, for the report's metadata."""
    return " ".join(["tripwire", *sys.argv[1:]])
