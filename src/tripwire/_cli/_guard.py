"""`tripwire guard`: try a policy on a call, print the default policy."""

from __future__ import annotations

import json
import os
import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tripwire._errors import ConfigError
from tripwire._text import printable

from ._exit import ExitCode

__all__ = ["guard_app"]

# `guard check`'s exit code per decision, for scripts and pre-commit style hooks.
_DECISION_EXIT = {
    "allow": ExitCode.OK,
    "ask": ExitCode.ASK,
    "deny": ExitCode.DENY,
    "kill": ExitCode.DENY,
}

guard_app = typer.Typer(
    name="guard",
    help="The runtime guard: check tool calls against a policy, and run agents under it.",
    no_args_is_help=True,
)


@guard_app.command("check")
def check_command(
    command: Annotated[
        str | None, typer.Argument(help="A shell command to check (as a `bash` tool call).")
    ] = None,
    tool: Annotated[str, typer.Option(help="Tool name of the call.")] = "bash",
    arguments: Annotated[
        str | None, typer.Option("--args", help="The call's arguments as a JSON object.")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (default: the shipped policy).")
    ] = None,
    cwd: Annotated[str | None, typer.Option(help="The agent's working directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Show what the guard decides for one call, with its rule, reason and effects.

    Exit code: 0 allow, 1 ask, 2 deny or kill (as a pre-commit-style check would want).
    """
    from tripwire.guard import Guard, GuardCall

    call_args: dict[str, Any]
    if arguments is not None:
        try:
            parsed = json.loads(arguments)
        except json.JSONDecodeError as ex:
            raise ConfigError(f"--args is not JSON: {ex.msg} at column {ex.colno}") from ex
        if not isinstance(parsed, dict):
            raise ConfigError('--args must be a JSON object, e.g. {"file_path": "x"}')
        call_args = parsed
    elif command is not None:
        call_args = {"command": command}
    else:
        raise ConfigError("Give a shell command, or --tool and --args for another tool.")
    guard = Guard.from_file(policy) if policy else Guard.default()
    decision = guard.check(GuardCall(tool=tool, arguments=call_args, cwd=cwd or os.getcwd()))
    if as_json:
        typer.echo(decision.model_dump_json(exclude_defaults=True))
    else:
        console = Console(soft_wrap=True, highlight=False)
        colour = {"allow": "green", "ask": "yellow", "deny": "red", "kill": "bold red"}
        console.print(f"[{colour[decision.action]}]{decision.action}[/] ({decision.rule})")
        console.print(decision.reason, markup=False)
        for effect in decision.effects:
            fields = effect.model_dump(exclude_defaults=True, exclude={"kind", "via"})
            detail = " ".join(f"{k}={v}" for k, v in fields.items())
            console.print(f"  {effect.kind:<10} {detail}", markup=False)
    raise typer.Exit(code=_DECISION_EXIT[decision.action])


@guard_app.command("policy")
def policy_command() -> None:
    """Print the shipped default policy (a commented YAML file to copy and edit)."""
    text = files("tripwire.guard").joinpath("data", "default_policy.yaml").read_text("utf-8")
    typer.echo(text, nl=False)


@guard_app.command(
    "run",
    context_settings={"allow_interspersed_args": False},
)
def run_command(
    command: Annotated[
        list[str], typer.Argument(help="The agent command, after `--`.", show_default=False)
    ],
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (default: the shipped policy).")
    ] = None,
    workdir: Annotated[
        Path, typer.Option(help="The agent's working directory (read-write, same path inside).")
    ] = Path("."),
    allow_net: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-net",
            help="A host the agent may reach (`api.example.com`, `*.example.com`, `host:443`); "
            "repeat for more. Without it the sandbox has no network.",
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="NAME=VALUE, or NAME to pass this variable through."),
    ] = None,
    mount: Annotated[
        list[str] | None,
        typer.Option(
            "--mount",
            help="A host path the agent needs (its CLI, a Node install): PATH (read-only, "
            "same path inside) or PATH:rw; repeat for more.",
        ),
    ] = None,
    confirm: Annotated[
        str | None,
        typer.Option(
            help="Who answers `ask` decisions: deny, terminal[:SECONDS] or file:DIR[:SECONDS] "
            "(default: terminal when there is one, else deny)."
        ),
    ] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Kill the run after this many seconds.")
    ] = None,
    runs_dir: Annotated[
        Path | None, typer.Option(help="Where run directories go (default ~/.local/state/...).")
    ] = None,
    run_id: Annotated[str | None, typer.Option(help="Name the run (default: a fresh id).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Run an agent command in a sandbox under the policy, with a kill switch.

    Every shell the agent starts asks the guard first; protected files are read-only,
    decoys are planted and watched, protected files are hashed after each command.
    Stop it from another terminal with `tripwire guard kill RUN-ID`.

    Exit code: the agent's own when it finished; 3 when the run was killed; 4 when the
    supervisor failed; 2 for a bad option or policy.
    """
    import asyncio
    import sys

    from rich.markup import escape

    from tripwire.guard import default_policy, load_policy
    from tripwire.guard._confirm import channel_from_spec
    from tripwire.sandbox import require_bwrap
    from tripwire.supervisor import Incident, Supervisor

    require_bwrap()
    rules = load_policy(policy) if policy else default_policy()
    if confirm is None:
        confirm = "terminal" if sys.stdin.isatty() else "deny"
    channel = channel_from_spec(confirm)
    err = Console(stderr=True, soft_wrap=True, highlight=False)

    def show(incident: Incident) -> None:
        mark = " (run killed)" if incident.killed else ""
        err.print(
            f"[bold red]tripwire incident[/] {incident.kind}: "
            f"{escape(printable(incident.detail))}{mark}",
            markup=True,
        )

    supervisor = Supervisor(
        command,
        policy=rules,
        workdir=workdir,
        runs_dir=runs_dir,
        run_id=run_id,
        confirm=channel,
        env=_parse_env(env or []),
        timeout=timeout,
        on_incident=show,
        egress=allow_net or [],
        mounts=mount or [],
    )
    supervisor.prepare()
    if not as_json:
        err.print(
            f"tripwire: run {supervisor.run_id} started; stop it with "
            f"`tripwire guard kill {supervisor.run_id}`"
        )
    summary = asyncio.run(supervisor.run())
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
    else:
        _print_summary(err, summary)
    if summary.status == "killed":
        raise typer.Exit(code=ExitCode.KILLED)
    if summary.status == "failed":
        raise typer.Exit(code=ExitCode.RUN_FAILED)
    # Otherwise the agent's own status, so `guard run` can stand in for the command.
    raise typer.Exit(code=summary.exit_code or ExitCode.OK)


def _parse_env(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError(f"--env {item!r}: give NAME=VALUE or NAME")
        if not sep:
            if name not in os.environ:
                raise ConfigError(f"--env {name}: no such variable here to pass through")
            value = os.environ[name]
        env[name] = value
    return env


def _print_summary(console: Console, summary: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    colour = {"finished": "green", "killed": "bold red", "failed": "red"}.get(summary.status, "")
    console.print(
        f"tripwire: run {summary.run_id} [{colour}]{summary.status}[/] after "
        f"{summary.seconds:.1f} s (exit {summary.exit_code})"
        + (f": {escape(printable(summary.killed_by))}" if summary.killed_by else ""),
        markup=True,
    )
    line = f"  commands: {summary.allowed} allowed, {summary.denied} denied, {summary.asked} asked"
    if summary.egress_allowed or summary.egress_refused:
        line += (
            f"; network requests: {summary.egress_allowed} allowed, "
            f"{summary.egress_refused} refused"
        )
    console.print(line, markup=False)
    if summary.kill_latency_ms is not None:
        console.print(f"  sandbox stopped {summary.kill_latency_ms:.0f} ms after the trigger")
    if summary.incidents:
        table = Table(title="Incidents", title_justify="left")
        table.add_column("s", justify="right", no_wrap=True)
        for column in ("incident", "detail", "command"):
            table.add_column(column, overflow="fold")
        for incident in summary.incidents:
            table.add_row(
                f"{incident.seconds:.1f}",
                incident.kind + (" (kill)" if incident.killed else ""),
                escape(printable(incident.detail)),
                escape(printable((incident.command or "")[:120])),
            )
        console.print(table)
    check = f"tripwire audit verify {summary.audit_log}"
    if summary.audit_head:
        check += f" --head {summary.audit_head}"
    console.print(f"  audit log: {summary.audit_log}\n  check it: {check}", markup=False)


@guard_app.command("kill")
def kill_command(
    run_id: Annotated[str, typer.Argument(help="The run to stop (see `tripwire guard runs`).")],
    runs_dir: Annotated[Path | None, typer.Option(help="The runs directory.")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "operator",
) -> None:
    """Stop a supervised run now: every process in its sandbox, within a second."""
    from tripwire.supervisor import default_runs_dir, kill_run

    result = kill_run(runs_dir or default_runs_dir(), run_id, reason=reason)
    if result.how == "supervisor":
        typer.echo(f"killed run {run_id} ({result.milliseconds:.0f} ms); logged by its supervisor")
    elif result.how == "direct":
        typer.echo(f"killed run {run_id}'s sandbox directly: its supervisor did not answer")
    else:
        typer.echo(f"run {run_id} is not running")


@guard_app.command("runs")
def runs_command(
    runs_dir: Annotated[Path | None, typer.Option(help="The runs directory.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List supervised runs, oldest first."""
    import shlex
    import time

    from rich.table import Table

    from tripwire.supervisor import default_runs_dir, list_runs

    states = list_runs(runs_dir or default_runs_dir())
    if as_json:
        for state in states:
            typer.echo(state.model_dump_json())
        return
    table = Table()
    for column in ("run", "status", "started", "command"):
        table.add_column(column, overflow="fold")
    for state in states:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(state.started))
        table.add_row(state.run_id, state.status, started, shlex.join(state.command)[:80])
    Console().print(table)


@guard_app.command("replay")
def replay_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Recorded transcripts (OpenAI chat JSON/JSONL, Inspect .eval logs, Claude "
            "Code session JSONL; directories are read recursively).",
            exists=True,
        ),
    ],
    policy: Annotated[
        Path | None, typer.Option(help="Policy file (default: the shipped policy).")
    ] = None,
    cwd: Annotated[
        str | None,
        typer.Option(help="The agent's working directory (default: as recorded, else /workspace)."),
    ] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Show allowed calls too, not only the others.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per call: transcript, call, decision.")
    ] = False,
) -> None:
    """Replay recorded transcripts through the policy: what it would have stopped.

    Every tool call is checked as if the agent were making it now; files are not looked
    at (the agent's machine is gone), so only what a call names counts. Exit code 0
    whatever the decisions; 2 on usage errors. Unreadable files are reported on stderr and counted.
    """
    from rich.markup import escape

    from tripwire.guard import NamedView, default_policy, load_policy
    from tripwire.monitor import ReadFailure, guard_decisions, iter_transcripts
    from tripwire.monitor._rules import transcript_guard

    guard = transcript_guard(load_policy(policy) if policy else default_policy(), NamedView())
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, soft_wrap=True, highlight=False)
    colour = {"allow": "green", "ask": "yellow", "deny": "red", "kill": "bold red"}
    totals: dict[str, int] = {"allow": 0, "ask": 0, "deny": 0, "kill": 0}
    transcripts = unreadable = 0
    for item in iter_transcripts(paths):
        if isinstance(item, ReadFailure):
            unreadable += 1
            err.print(f"[yellow]unreadable:[/yellow] {escape(str(item))}")
            continue
        transcripts += 1
        heading_shown = False
        for index, (call, decision) in enumerate(guard_decisions(item, guard, cwd=cwd), 1):
            totals[decision.action] += 1
            if as_json:
                typer.echo(
                    json.dumps(
                        {
                            "file": item.source,
                            "transcript": item.id,
                            "call": index,
                            "tool": call.tool,
                            "arguments": call.arguments,
                            "action": decision.action,
                            "rule": decision.rule,
                            "reason": decision.reason,
                        },
                        default=str,
                    )
                )
                continue
            if decision.action == "allow" and not show_all:
                continue
            if not heading_shown:
                out.print(f"[bold]{escape(printable(item.label))}[/bold]")
                heading_shown = True
            shown = " ".join(json.dumps(call.arguments, default=str).split())
            shown = shown if len(shown) <= 140 else shown[:137] + "..."
            out.print(
                f"  #{index} [{colour[decision.action]}]{decision.action}[/] "
                f"({escape(decision.rule)}) {escape(printable(call.tool))} ",
                end="",
            )
            out.print(shown, markup=False)
            if decision.action != "allow":
                out.print(f"      {printable(decision.reason)}", markup=False)
    summary = ", ".join(f"{count} {action}" for action, count in totals.items())
    err.print(
        f"{transcripts} transcripts, {sum(totals.values())} calls: {summary}; "
        f"{unreadable} files unreadable"
    )
