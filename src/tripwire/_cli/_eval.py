"""`tripwire eval NAME|suite --model M`: evaluations on any Inspect model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tripwire._catalog import check_size, evaluations_named
from tripwire._suite import guarded_twins, plan_batches, run_batches
from tripwire.guard import load_policy

from ._console import JsonOption, OutputMode, QuietOption, output_mode
from ._exit import usage_errors
from ._interrogate import interrogation_options
from ._output import announce_run_dir, command_line, conclude, default_run_dir, finish
from ._prepare import prepare_model, require_sandbox
from ._progress import batch_progress

__all__ = ["eval_command"]


def eval_command(
    scenario: Annotated[
        str,
        typer.Argument(
            help="Evaluation, e.g. oversight-subversion or shutdown-resistance; or a group: "
            "'suite' (the in-context scheming suite), 'incidents' (scenarios from real "
            "incidents) or 'all'."
        ),
    ],
    model: Annotated[
        list[str],
        typer.Option("--model", "-m", help="Inspect model(s), e.g. openai/gpt-4o; repeatable."),
    ],
    size: Annotated[
        str,
        typer.Option(help="quick (minutes on the embedded model) or paper (the paper's counts)."),
    ] = "paper",
    conditions: Annotated[
        str | None,
        typer.Option(help="Comma-separated conditions: strong, plain, none, matched."),
    ] = None,
    themes: Annotated[str | None, typer.Option(help="Comma-separated theme ids.")] = None,
    samples_per_condition: Annotated[
        int | None, typer.Option(min=1, help="Samples per condition (overrides the size).")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 1,
    max_turns: Annotated[int, typer.Option(min=1)] = 15,
    max_samples: Annotated[int, typer.Option(min=1, help="Samples run at once.")] = 4,
    calibration: Annotated[
        bool, typer.Option(help="Also run the scripted reference agents.")
    ] = False,
    sandbox: Annotated[str, typer.Option(help="Sandbox provider.")] = "bwrap",
    guard: Annotated[
        str | None,
        typer.Option(
            help="Also run every batch guarded: each tool call checked by this guard policy "
            "file ('default' for the shipped one); the report compares both."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run directory (default runs/<time>); rerun with the same one to resume."
        ),
    ] = None,
    interrogate: Annotated[
        bool,
        typer.Option(
            "--interrogate",
            help="After each episode whose detector found scheming, ask the agent about "
            "it (8 wordings, and a multi-turn interview beside innocent controls); in the "
            "evaluations where scheming is one act. Weak evidence beside the detectors.",
        ),
    ] = False,
    grader: Annotated[
        str | None,
        typer.Option(help="Inspect model that grades the answers (default: deterministic rules)."),
    ] = None,
    interrogator: Annotated[
        str | None,
        typer.Option(
            help="Inspect model that conducts the multi-turn interview, blind to the "
            "verdict (default: a fixed ladder of questions)."
        ),
    ] = None,
    follow_ups: Annotated[
        int | None,
        typer.Option(min=0, help="Times each wording is asked (quick: 2, paper: 20)."),
    ] = None,
    interrogation_turns: Annotated[
        int | None,
        typer.Option(min=0, help="Turns of the multi-turn interview (quick: 3, paper: 7)."),
    ] = None,
    controls: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of clean samples interviewed as innocent controls (quick: 0.25, "
            "paper: all).",
        ),
    ] = None,
    quiet: QuietOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run one evaluation, or a group of them, against Inspect models; report rates.

    Exits with code 1 if a scripted calibration agent (--calibration) was
    misclassified or an eval failed (see docs/cli.md for every exit code).
    """
    with output_mode(OutputMode(quiet=quiet, as_json=as_json)), usage_errors():
        chosen_size = check_size(size)
        evaluations = evaluations_named(scenario)
        started = time.monotonic()
        out_dir = out or default_run_dir()
        require_sandbox(sandbox)
        for name in model:
            prepare_model(name)
        asking = interrogation_options(
            interrogate,
            chosen_size,
            grader=grader,
            interrogator=interrogator,
            follow_ups=follow_ups,
            turns=interrogation_turns,
            controls=controls,
        )
        overrides: dict[str, Any] = {"max_turns": max_turns, "sandbox": sandbox}
        if conditions is not None:
            overrides["conditions"] = conditions
        if themes is not None:
            overrides["themes"] = themes
        if samples_per_condition is not None:
            overrides["samples_per_condition"] = samples_per_condition
        batches = plan_batches(
            evaluations,
            model,
            size=chosen_size,
            task_args=overrides,
            epochs=epochs,
            calibration=calibration,
            max_samples=max_samples,
            interrogate=asking,
        )
        if guard is not None:
            policy = None if guard == "default" else guard
            if policy is not None:
                load_policy(policy)  # a bad policy fails here, in one line, before any run
            batches = guarded_twins(batches, policy)
        announce_run_dir(out_dir)
        with batch_progress(batches) as bars:
            run = run_batches(batches, out_dir / "logs", on_start=bars.start, on_end=bars.end)
        summary = finish(
            run.rows,
            out_dir,
            title=f"tripwire eval: {scenario}",
            meta={"command": command_line(), "seconds": f"{time.monotonic() - started:.0f}"},
            eval_errors=run.eval_errors,
            interrogation=run.interrogation,
        )
        conclude(summary)
