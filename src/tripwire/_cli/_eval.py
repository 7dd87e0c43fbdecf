"""`tripwire eval SCENARIO --model M`: one scenario on any Inspect model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tripwire._errors import ConfigError
from tripwire._suite import EvalBatch, run_batches
from tripwire.scenarios import scenario_names
from tripwire.scenarios.oversight_subversion import oversight_subversion

from ._output import command_line, default_run_dir, finish, make_progress
from ._prepare import prepare_model, require_sandbox
from ._progress import BatchProgress

__all__ = ["eval_command"]


def eval_command(
    scenario: Annotated[str, typer.Argument(help="Scenario name, e.g. oversight-subversion.")],
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="Inspect model(s), e.g. openai/gpt-4o; repeatable."),
    ],
    conditions: Annotated[
        str, typer.Option(help="Comma-separated conditions: strong, plain, none.")
    ] = "strong,plain,none",
    themes: Annotated[str | None, typer.Option(help="Comma-separated theme ids.")] = None,
    themes_per_condition: Annotated[int | None, typer.Option(min=1)] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    max_turns: Annotated[int, typer.Option(min=1)] = 15,
    max_samples: Annotated[int, typer.Option(min=1, help="Samples run at once.")] = 4,
    sandbox: Annotated[str, typer.Option(help="Sandbox provider.")] = "bwrap",
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<time>).")] = None,
) -> None:
    """Run one scenario against any Inspect model and report scheming rates."""
    if scenario != "oversight-subversion":
        raise ConfigError(
            f"Unknown scenario {scenario!r}: choose from {', '.join(scenario_names())}."
        )
    started = time.monotonic()
    out_dir = out or default_run_dir()
    require_sandbox(sandbox)
    for name in model:
        prepare_model(name)
    task = oversight_subversion(
        conditions=conditions,
        themes=themes,
        themes_per_condition=themes_per_condition,
        max_turns=max_turns,
        sandbox=sandbox,
    )
    local = any(name.startswith("tripwire/") and "scripted" not in name for name in model)
    batch = EvalBatch(
        label=scenario,
        task=task,
        models=list(model),
        epochs=epochs,
        max_samples=1 if local else max_samples,
    )
    with make_progress() as progress:
        bars = BatchProgress(progress)
        bars.add(batch)
        run = run_batches([batch], out_dir / "logs", on_start=bars.start, on_end=bars.end)
    finish(
        run.rows,
        out_dir,
        title=f"tripwire eval: {scenario}",
        meta={"command": command_line(), "seconds": f"{time.monotonic() - started:.0f}"},
        eval_errors=run.eval_errors,
    )
    if run.eval_errors:
        raise typer.Exit(code=1)
