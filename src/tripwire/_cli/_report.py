"""`tripwire report PATH`: rebuild tables and the HTML report from eval logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tripwire._errors import ConfigError
from tripwire.report import INTERROGATION_JSONL, read_interrogation, read_results
from tripwire.results import all_rows_from_log_dir

from ._output import command_line, finish

__all__ = ["report_command"]


def report_command(
    path: Annotated[
        Path, typer.Argument(help="A run directory, a log directory, or a results.jsonl file.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default: PATH's run dir).")
    ] = None,
) -> None:
    """Build the results table and HTML report from Inspect logs or a results file.

    From a results file, the interrogation's answers are read from the
    `interrogation.jsonl` beside it, if there is one.
    """
    if not path.exists():
        raise ConfigError(f"{path} does not exist.")
    if path.is_file():
        rows = read_results(path)
        answers = path.parent / INTERROGATION_JSONL
        interrogation = read_interrogation(answers) if answers.is_file() else []
        out_dir = out or path.parent
    else:
        log_dir = path / "logs" if (path / "logs").is_dir() else path
        rows, interrogation = all_rows_from_log_dir(log_dir)
        out_dir = out or (log_dir.parent if log_dir.name == "logs" else log_dir)
    finish(
        rows,
        out_dir,
        title="tripwire report",
        meta={"command": command_line(), "source": str(path)},
        interrogation=interrogation,
    )
