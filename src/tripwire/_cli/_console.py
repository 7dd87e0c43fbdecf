"""Where the human text of the commands goes: the screen, stderr, or nowhere.

`run`, `eval` and `report` take `--quiet` (only errors and the final verdict line)
and `--json` (one JSON document on stdout, every human line on stderr, so
`tripwire eval ... --json | jq` works). Both change the consoles here for the length
of one command; progress always goes to stderr, beside the errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console

__all__ = [
    "JsonOption",
    "OutputMode",
    "QuietOption",
    "console",
    "current_mode",
    "output_mode",
    "status_console",
    "verdict",
]

console = Console()
"""Tables and other human text: stdout; stderr under `--json`; silent under `--quiet`."""

status_console = Console(stderr=True)
"""Progress (bars on a terminal, a line per finished batch otherwise): always stderr;
silent under `--quiet`."""

_verdict_out = Console(soft_wrap=True, highlight=False)
_verdict_err = Console(stderr=True, soft_wrap=True, highlight=False)


@dataclass(frozen=True)
class OutputMode:
    """How a command reports: the `--quiet` and `--json` flags."""

    quiet: bool = False
    """Print nothing but errors and the final one-line verdict."""

    as_json: bool = False
    """Print one JSON document on stdout; human text goes to stderr."""

    @property
    def live(self) -> bool:
        """Whether progress may redraw bars: a terminal on stderr, and no flag."""
        return not (self.quiet or self.as_json) and status_console.is_terminal


_current = OutputMode()


def current_mode() -> OutputMode:
    """The mode of the command running now."""
    return _current


@contextmanager
def output_mode(mode: OutputMode) -> Iterator[OutputMode]:
    """Point the consoles where `mode` says for the length of a command.

    The consoles are shared by every module of the CLI, so they are changed in place
    and restored afterwards (tests run many commands in one process).
    """
    global _current
    saved = (_current, console.quiet, console.stderr, status_console.quiet)
    _current = mode
    console.quiet = mode.quiet
    console.stderr = mode.as_json
    status_console.quiet = mode.quiet
    try:
        yield mode
    finally:
        _current, console.quiet, console.stderr, status_console.quiet = saved


def verdict(text: str) -> None:
    """Print the command's final one-line verdict (rich markup), even under `--quiet`.

    On stdout, unless `--json` keeps stdout for the JSON document.
    """
    (_verdict_err if _current.as_json else _verdict_out).print(text)


QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing but errors and the final one-line verdict (no progress, no tables).",
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document (rates, calibration verdicts, files written) on "
        "stdout; every human line goes to stderr.",
    ),
]
