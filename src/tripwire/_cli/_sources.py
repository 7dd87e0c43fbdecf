"""What `tripwire report PATH...` reads: run dirs, log dirs and results files, merged.

`tripwire report runs/*` gets one path per run from the shell. Their rows are
concatenated into one report; a sample that arrives twice (the same run named twice,
or a run dir and its own results.jsonl) is kept once. Models keep their names, so a
model measured in several runs stays one row per name.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

from inspect_ai.log import list_eval_logs, read_eval_log
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tripwire._errors import ConfigError
from tripwire.report._files import INTERROGATION_JSONL, read_interrogation, read_results
from tripwire.results import (
    InterrogationRow,
    ResultRow,
    interrogation_rows_from_log,
    rows_from_log,
)

from ._console import current_mode, status_console

__all__ = ["Sources", "read_sources"]

_Row = TypeVar("_Row", ResultRow, InterrogationRow)


@dataclass
class Sources:
    """The rows of every path given to `tripwire report`."""

    rows: list[ResultRow] = field(default_factory=list)
    """One row per sample, duplicates dropped."""

    interrogation: list[InterrogationRow] = field(default_factory=list)
    """One row per question put to an agent, duplicates dropped."""

    duplicates: int = 0
    """Result rows dropped because the same log sample was already read."""

    default_out: Path | None = None
    """Where the report goes unless `--out` says: the run dir of a single path."""


def read_sources(paths: Sequence[Path]) -> Sources:
    """Read and merge the rows of every path (run dir, log dir or results.jsonl).

    Raises:
        ConfigError: If a path does not exist or holds no logs or results.
    """
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise ConfigError(f"{', '.join(missing)} does not exist.")
    sources = Sources()
    logs: list[str] = []
    for path in paths:
        if path.is_file():
            sources.rows += read_results(path)
            answers = path.parent / INTERROGATION_JSONL
            if answers.is_file():
                sources.interrogation += read_interrogation(answers)
            sources.default_out = path.parent
            continue
        log_dir = path / "logs" if (path / "logs").is_dir() else path
        found = [info.name for info in list_eval_logs(str(log_dir))]
        if not found:
            raise ConfigError(
                f"No Inspect eval logs found in {log_dir}. Give a run directory, a log "
                "directory or a results.jsonl file."
            )
        logs += found
        sources.default_out = log_dir.parent if log_dir.name == "logs" else log_dir
    _read_logs(logs, sources)
    sources.rows, sources.duplicates = _unique(
        sources.rows, lambda r: (_log_path(r.log_file), r.sample_id, r.epoch)
    )
    sources.interrogation, _ = _unique(
        sources.interrogation,
        lambda r: (
            _log_path(r.log_file),
            r.sample_id,
            r.epoch,
            r.kind,
            r.wording,
            r.repeat,
            r.turn,
        ),
    )
    if len(paths) > 1:
        sources.default_out = None
    return sources


def _read_logs(logs: list[str], sources: Sources) -> None:
    """Read each log once, with a bar on a terminal (a large run has thousands)."""
    with Progress(
        TextColumn("reading logs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=status_console,
        disable=not current_mode().live,
        transient=True,
    ) as progress:
        task = progress.add_task("logs", total=len(logs))
        for name in logs:
            try:
                log = read_eval_log(name)
                sources.rows += rows_from_log(log)
                sources.interrogation += interrogation_rows_from_log(log)
            except Exception as ex:  # a torn or foreign log: say which, not a traceback
                raise ConfigError(f"Cannot read eval log {name}: {ex}") from ex
            progress.advance(task)


def _log_path(log_file: str) -> str:
    """One spelling per log: a run writes a path, logs read back give a `file://` URI."""
    parsed = urlparse(log_file)
    return unquote(parsed.path) if parsed.scheme == "file" else log_file


def _unique(rows: list[_Row], key: Callable[[_Row], Hashable]) -> tuple[list[_Row], int]:
    """`rows` without repeats of one log sample; rows from no log are all kept."""
    seen: set[Hashable] = set()
    kept: list[_Row] = []
    for row in rows:
        identity = key(row)
        if row.log_file and identity in seen:
            continue
        seen.add(identity)
        kept.append(row)
    return kept, len(rows) - len(kept)
