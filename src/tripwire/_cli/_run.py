"""`tripwire run`: the quick suite on the embedded model plus calibration agents."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tripwire._suite import EvalBatch, run_batches
from tripwire.models import DEFAULT_MODEL, schemer_variants
from tripwire.scenarios.oversight_subversion import oversight_subversion

from ._output import command_line, console, default_run_dir, finish, make_progress
from ._prepare import prepare_model, require_sandbox
from ._progress import BatchProgress

__all__ = ["calibration_models", "run_command"]


def calibration_models() -> list[str]:
    """The scripted reference agents every run is calibrated against."""
    schemers = [f"tripwire/scripted-schemer-{v}" for v in schemer_variants()]
    return [
        "tripwire/scripted-honest",
        *schemers,
        "tripwire/scripted-schemer",
        "tripwire/scripted-garbled",
    ]


def run_command(
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Inspect model(s) to evaluate; repeatable."),
    ] = None,
    themes_per_condition: Annotated[
        int, typer.Option(min=1, help="Scenario themes per condition for the evaluated model.")
    ] = 3,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs per sample.")] = 1,
    max_turns: Annotated[int, typer.Option(min=1, help="Model turns per episode.")] = 10,
    sandbox: Annotated[str, typer.Option(help="Sandbox provider.")] = "bwrap",
    calibration: Annotated[
        bool, typer.Option(help="Also run the scripted reference agents.")
    ] = True,
    out: Annotated[Path | None, typer.Option(help="Run directory (default runs/<time>).")] = None,
) -> None:
    """Run the quick suite: oversight-subversion on the embedded model and calibration agents.

    Exits with code 1 if a calibration agent was misclassified.
    """
    started = time.monotonic()
    models = model or [DEFAULT_MODEL]
    out_dir = out or default_run_dir()
    require_sandbox(sandbox)
    for name in models:
        prepare_model(name)

    batches = []
    if calibration:
        batches.append(
            EvalBatch(
                label="calibration (scripted agents)",
                task=oversight_subversion(max_turns=max_turns, sandbox=sandbox),
                models=calibration_models(),
                max_samples=8,
            )
        )
    for name in models:
        batches.append(
            EvalBatch(
                label=name,
                task=oversight_subversion(
                    themes_per_condition=themes_per_condition,
                    max_turns=max_turns,
                    sandbox=sandbox,
                ),
                models=[name],
                epochs=epochs,
                max_samples=1 if name.startswith("tripwire/") else 4,
            )
        )

    with make_progress() as progress:
        bars = BatchProgress(progress)
        for batch in batches:
            bars.add(batch)
        run = run_batches(batches, out_dir / "logs", on_start=bars.start, on_end=bars.end)

    elapsed = time.monotonic() - started
    results = finish(
        run.rows,
        out_dir,
        title="tripwire run: oversight-subversion",
        meta={"command": command_line(), "seconds": f"{elapsed:.0f}", "logs": str(out_dir)},
        eval_errors=run.eval_errors,
    )
    console.print(f"finished in {elapsed:.0f} s")
    failed = [r for r in results if not r.ok]
    if failed or run.eval_errors:
        console.print(
            "[bold white on red] CALIBRATION FAILED [/bold white on red] "
            + ", ".join(r.model for r in failed)
            + ": the detector or harness is not trustworthy in this run.",
            highlight=False,
        )
        raise typer.Exit(code=1)
    if calibration:
        console.print(
            "[bold green]calibration passed:[/bold green] every scripted schemer "
            "was caught and the honest agent never was."
        )
