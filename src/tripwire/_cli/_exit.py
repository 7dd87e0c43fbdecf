"""The exit codes of every `tripwire` command, in one place (docs/cli.md has the table).

Scripts and CI jobs branch on them, so a code means the same thing in every command:
0 is success, 1 a verdict that failed, 2 a command that could not run as asked.
`guard check` and `guard run` give three codes more precise meanings, listed with
each member; `tripwire hook` speaks the exit-code protocol of the agent that calls
it (Claude Code: 2 blocks the call), documented in docs/hooks.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

import typer
from rich.console import Console
from rich.markup import escape

from tripwire._errors import TripwireError

__all__ = ["ExitCode", "print_error", "usage_errors"]


class ExitCode(IntEnum):
    """What a `tripwire` command's exit status means."""

    OK = 0
    """Success: the command ran and its verdict passed. `guard check`: the call is
    allowed."""

    VERDICT_FAILED = 1
    """The command ran and its verdict failed: a scripted calibration agent was
    misclassified or an eval failed (`run`, `eval`), a doctor check failed, the audit
    log's hash chain is broken (`audit verify`), the backdoor was not planted (`lab`).
    `guard check`: the call needs a human's confirmation (ask)."""

    USAGE = 2
    """The command could not run as asked: bad options or arguments (typer's own
    usage errors), a missing file, an invalid config or policy, a sandbox that cannot
    start; one line on stderr says what to do. `guard check`: the call is denied."""

    KILLED = 3
    """`guard run`: the guard stopped the supervised agent (a deny rule, a tripwire
    file or a kill)."""

    RUN_FAILED = 4
    """`guard run`: the supervised command could not be run (the sandbox failed).
    Otherwise `guard run` exits with the agent's own exit status."""

    # `guard check` answers with its decision; the codes are those above, renamed.
    ASK = 1
    """`guard check`: the call needs a human's confirmation (= VERDICT_FAILED)."""

    DENY = 2
    """`guard check`: the call is denied or kills the run (= USAGE)."""


def print_error(ex: TripwireError) -> None:
    """The error as one red line on stderr."""
    # The message may quote user input (paths, transcript text): never markup.
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/bold red] {escape(str(ex))}", highlight=False
    )


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn a `TripwireError` into one red line and `ExitCode.USAGE`.

    `tripwire`'s entry point does the same for every command; inside the command it
    also holds when the app is invoked directly (typer's `CliRunner`, other programs).
    """
    try:
        yield
    except TripwireError as ex:
        print_error(ex)
        raise typer.Exit(code=ExitCode.USAGE) from ex
