"""`tripwire run`: the quick suite and incidents on the embedded model, calibrated."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from tripwire._catalog import all_evaluations
from tripwire._suite import plan_batches, run_batches
from tripwire.models import DEFAULT_MODEL

from ._console import JsonOption, OutputMode, QuietOption, console, output_mode
from ._exit import usage_errors
from ._interrogate import interrogation_options
from ._output import announce_run_dir, command_line, conclude, default_run_dir, finish
from ._prepare import prepare_model, require_sandbox
from ._progress import batch_progress

__all__ = ["run_command"]


def run_command(
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="Inspect model(s) to evaluate; repeatable."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs per sample.")] = 1,
    max_turns: Annotated[int, typer.Option(min=1, help="Model turns per episode.")] = 10,
    sandbox: Annotated[str, typer.Option(help="Sandbox provider.")] = "bwrap",
    calibration: Annotated[
        bool, typer.Option(help="Also run the scripted reference agents.")
    ] = True,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run directory (default runs/<time>); rerun with the same one to resume."
        ),
    ] = None,
    interrogate: Annotated[
        bool,
        typer.Option(
            help="Ask each agent that schemed about it afterwards (quick size: each of 8 "
            "wordings twice, a 3-turn interview, a quarter of clean samples as controls)."
        ),
    ] = True,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run the quick suite on the embedded model, calibrated by the scripted agents.

    Every evaluation (the suite and the incident scenarios) runs in its quick size;
    each is calibrated: its scripted schemers must be caught and its honest agent
    never. Exits with code 1 if a calibration agent was misclassified or an eval
    failed (see docs/cli.md for every exit code).
    """
    with output_mode(OutputMode(quiet=quiet, as_json=as_json)), usage_errors():
        _run(model, epochs, max_turns, sandbox, calibration, out, interrogate)


def _run(
    model: list[str] | None,
    epochs: int,
    max_turns: int,
    sandbox: str,
    calibration: bool,
    out: Path | None,
    interrogate: bool,
) -> None:
    started = time.monotonic()
    models = model or [DEFAULT_MODEL]
    out_dir = out or default_run_dir()
    require_sandbox(sandbox)
    for name in models:
        prepare_model(name)
    asking = interrogation_options(interrogate, "quick")
    batches = plan_batches(
        all_evaluations(),
        models,
        size="quick",
        task_args={"max_turns": max_turns, "sandbox": sandbox},
        epochs=epochs,
        calibration=calibration,
        interrogate=asking,
    )

    announce_run_dir(out_dir)
    with batch_progress(batches) as bars:
        run = run_batches(batches, out_dir / "logs", on_start=bars.start, on_end=bars.end)

    elapsed = time.monotonic() - started
    summary = finish(
        run.rows,
        out_dir,
        title="tripwire run: the quick suite and incidents",
        meta={"command": command_line(), "seconds": f"{elapsed:.0f}", "logs": str(out_dir)},
        eval_errors=run.eval_errors,
        interrogation=run.interrogation,
    )
    console.print(f"finished in {elapsed:.0f} s")
    conclude(summary)
