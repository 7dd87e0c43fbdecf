"""`tripwire report PATH`: rebuild tables and the HTML report from eval logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tripwire._errors import ConfigError
from tripwire.report import INTERROGATION_JSONL, read_interrogation, read_results
from tripwire.results import (
    InterrogationRow,
    ResultRow,
    interrogation_rows_from_log,
    rows_from_log,
)

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
        rows, interrogation = _read_logs(log_dir)
        out_dir = out or (log_dir.parent if log_dir.name == "logs" else log_dir)
    finish(
        rows,
        out_dir,
        title="tripwire report",
        meta={"command": command_line(), "source": str(path)},
        interrogation=interrogation,
    )


def _read_logs(log_dir: Path) -> tuple[list[ResultRow], list[InterrogationRow]]:
    """Result and interrogation rows from every eval log under a directory, each read once.

    Raises:
        ConfigError: If the directory has no logs or a log cannot be read.
    """
    from inspect_ai.log import list_eval_logs, read_eval_log

    infos = list_eval_logs(str(log_dir))
    if not infos:
        raise ConfigError(f"No Inspect eval logs found in {log_dir}.")
    rows: list[ResultRow] = []
    interrogation: list[InterrogationRow] = []
    for info in infos:
        try:
            log = read_eval_log(info)
            rows.extend(rows_from_log(log))
            interrogation.extend(interrogation_rows_from_log(log))
        except Exception as ex:  # a torn or foreign log: say which, not a traceback
            raise ConfigError(f"Cannot read eval log {info.name}: {ex}") from ex
    return rows, interrogation
