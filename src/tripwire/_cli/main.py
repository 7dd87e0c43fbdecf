"""`tripwire` command line: typer app and the error boundary around it."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from tripwire._errors import TripwireError

from ._eval import eval_command
from ._guard import guard_app
from ._lab import lab_app
from ._report import report_command
from ._run import run_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="tripwire",
    help="Catch AI agents that scheme: scheming evals on Inspect AI.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run_command)
app.command("eval")(eval_command)
app.command("report")(report_command)
app.add_typer(lab_app)
app.add_typer(guard_app)


def main() -> None:
    """Entry point: a TripwireError becomes one red line and exit code 2."""
    try:
        app()
    except TripwireError as ex:
        Console(stderr=True, soft_wrap=True).print(
            f"[bold red]error:[/bold red] {ex}", highlight=False
        )
        sys.exit(2)
