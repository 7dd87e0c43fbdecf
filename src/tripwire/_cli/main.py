"""`tripwire` command line: typer app and the error boundary around it."""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

    app: typer.Typer  # built on first access (module __getattr__ below)

__all__ = ["app", "main"]


# Commands that run beside an agent (`guard run`, `guard kill`, `audit verify`) need
# neither Inspect nor the suite: they get an app without them, which starts in a fraction
# of the time (Inspect's import alone takes about 2 s).
_LEAN = ("guard", "audit")


@cache
def _app(lean: str | None = None) -> typer.Typer:
    """The typer app, built on first use (`tripwire hook` never needs it).

    Args:
        lean: Build only this group of `_LEAN` (the command line names it).
    """
    import typer

    app = typer.Typer(
        name="tripwire",
        help="Catch AI agents that scheme: scheming evals on Inspect AI.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    if lean == "guard":
        from ._guard import guard_app

        app.add_typer(guard_app)
        return app
    if lean == "audit":
        from ._audit import audit_app

        app.add_typer(audit_app)
        return app

    from ._audit import audit_app
    from ._doctor import doctor_command
    from ._eval import eval_command
    from ._guard import guard_app
    from ._hook_command import hook_command
    from ._lab import lab_app
    from ._monitor import monitor_app
    from ._report import report_command
    from ._run import run_command
    from ._scale import scale_app

    app.command("run")(run_command)
    app.command("eval")(eval_command)
    app.command("report")(report_command)
    app.command("doctor")(doctor_command)
    app.add_typer(lab_app)
    app.add_typer(guard_app)
    app.add_typer(audit_app)
    app.add_typer(monitor_app)
    app.add_typer(scale_app)
    # `main()` dispatches `hook` before typer loads; this entry lists it in --help and
    # serves callers that invoke the app directly.
    app.command(
        "hook",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(hook_command)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: a TripwireError becomes one red line and exit code 2 (usage)."""
    if sys.argv[1:2] == ["hook"]:
        # Every tool call pays the hook's start-up: argparse, no typer/rich/inspect_ai.
        from ._hook import hook_main

        sys.exit(hook_main(sys.argv[2:]))
    from tripwire._errors import TripwireError

    from ._exit import ExitCode, print_error

    lean = sys.argv[1] if sys.argv[1:2] and sys.argv[1] in _LEAN else None
    try:
        _app(lean)()
    except TripwireError as ex:
        print_error(ex)
        sys.exit(ExitCode.USAGE)
