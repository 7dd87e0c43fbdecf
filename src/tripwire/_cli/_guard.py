"""`tripwire guard`: try a policy on a call, print the default policy."""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tripwire._errors import ConfigError

__all__ = ["guard_app"]

guard_app = typer.Typer(
    name="guard",
    help="The runtime guard: check tool calls against a policy.",
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
    raise typer.Exit(code={"allow": 0, "ask": 1}.get(decision.action, 2))


@guard_app.command("policy")
def policy_command() -> None:
    """Print the shipped default policy (a commented YAML file to copy and edit)."""
    text = files("tripwire.guard").joinpath("data", "default_policy.yaml").read_text("utf-8")
    typer.echo(text, nl=False)
