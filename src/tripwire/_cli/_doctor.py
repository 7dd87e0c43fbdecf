"""`tripwire doctor`: check this machine; `--security` also attacks its sandbox."""

from __future__ import annotations

import json
import tempfile
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tripwire._doctor import Check, environment_checks

if TYPE_CHECKING:
    from tripwire.security import EscapeReport

from ._exit import ExitCode
from ._output import console

__all__ = ["doctor_command"]

_MARK = {"ok": "[green]ok[/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def doctor_command(
    security: Annotated[
        bool,
        typer.Option(
            "--security",
            help="Also run the escape suite's attacks against the bwrap sandbox here and "
            "say which are contained.",
        ),
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="With --security: include the resource attacks (about a minute more)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check the sandbox, its limits, the embedded model and the extras; say how to fix each.

    Exit code 0 when nothing failed (warnings allowed), 1 when a check failed or an
    attack got out.
    """
    checks = environment_checks()
    report = None
    if security and not any(c.name == "bwrap" and c.status == "fail" for c in checks):
        from tripwire.security import ATTACKS, run_escape_suite

        names = [a.name for a in ATTACKS if full or a.category != "resources"]
        if not as_json:
            console.print(f"running {len(names)} escape attempts in the bwrap sandbox…")
        with tempfile.TemporaryDirectory(prefix="tripwire-doctor-") as logs:
            report = run_escape_suite(names, log_dir=logs)
    failed = any(c.status == "fail" for c in checks) or bool(report and report.escaped)
    if as_json:
        payload: dict[str, object] = {"checks": [c.model_dump() for c in checks]}
        if report is not None:
            payload["security"] = report.model_dump(exclude={"logs"})
        print(json.dumps(payload, indent=2))
    else:
        console.print(_checks_table(checks))
        if report is not None:
            console.print(_attacks_table(report))
            if report.audit_problem:
                console.print(f"[red]audit log:[/red] {escape(report.audit_problem)}")
    if failed:
        raise typer.Exit(code=ExitCode.VERDICT_FAILED)


def _checks_table(checks: list[Check]) -> Table:
    table = Table(title="tripwire doctor", show_lines=False, expand=False)
    table.add_column("check", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("found / fix", overflow="fold")
    for check in checks:
        text = escape(check.detail)
        if check.fix:
            text += f"\n[bold]fix:[/bold] {escape(check.fix)}"
        table.add_row(check.name, _MARK[check.status], text)
    return table


def _attacks_table(report: EscapeReport) -> Table:
    table = Table(title="escape attempts in the bwrap sandbox", expand=False)
    table.add_column("attack", no_wrap=True)
    table.add_column("contained", no_wrap=True)
    table.add_column("recorded", no_wrap=True)
    table.add_column("what it tried / what got out", overflow="fold")
    for result in report.results:
        if result.skipped:
            table.add_row(result.attack, "[yellow]skipped[/yellow]", "", escape(result.skipped))
            continue
        held = "[green]yes[/green]" if result.contained else "[red]NO[/red]"
        recorded = "yes" if result.recorded and result.went_on else "[red]no[/red]"
        detail = "; ".join(result.evidence) or result.title
        if result.contained and result.stopped_by:
            detail += f" (stopped by {', '.join(result.stopped_by)})"
        table.add_row(result.attack, held, recorded, escape(detail[:160]))
    return table
