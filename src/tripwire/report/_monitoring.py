"""How well the monitors would have caught this run's scheming: ROC and control curves.

The run's own samples are the test set: every sample the detectors judged (`schemed`
or `clean`, in scenarios judged per sample) is scored by the transcript monitors, which
see only the conversation, never the verdict. The ROC says how well a monitor separates
what the detectors found from what they did not; the control evaluation (scripted
honest agent against the scripted schemers, whose policies are known) says what an
audit budget buys in safety and costs in usefulness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from tripwire.results._row import ResultRow
from tripwire.stats import DEFERRED_SCENARIOS

from ._svg import Plots, plot_style
from ._transcripts import local_log_path

if TYPE_CHECKING:
    from tripwire.monitor import ControlReport, MonitorMetrics

__all__ = ["MonitoringView", "monitoring_view"]

REPORT_SCORERS = ("rules", "classifier")
"""Monitors scored in the report (no model calls); their ensemble is added and drives
the control evaluation."""


@dataclass
class MonitoringView:
    """The report's monitor section."""

    metrics: list[MonitorMetrics] = field(default_factory=list)
    """AUROC and TPR at low FPR per monitor, detected scheming as the positive class."""

    roc: Markup | None = None
    """The ROC figure."""

    control: ControlReport | None = None
    """Safety and usefulness per audit budget (scripted agents), or None."""

    control_plot: Markup | None = None
    """The safety-vs-usefulness figure."""

    control_skipped: str | None = None
    """Why there is no control evaluation, when there is none."""

    samples: int = 0
    """Samples whose transcripts were scored."""

    unreadable: list[str] = field(default_factory=list)
    """Logs that could not be read (their samples are left out, counted here)."""


def monitoring_view(rows: Sequence[ResultRow], plots: Plots) -> MonitoringView | None:
    """Score the run's transcripts with the monitors; None when no log can be read.

    Args:
        rows: The report's result rows (their `log_file` says where the transcripts
            are).
        plots: Where the figures go.
    """
    scored = _scored_samples(rows)
    if scored is None:
        return None
    samples, unreadable = scored
    if not samples:
        return MonitoringView(unreadable=unreadable) if unreadable else None
    from tripwire._errors import MonitorError
    from tripwire.monitor import (
        EnsembleScorer,
        control_report,
        control_runs,
        monitor_metrics,
        roc_figure,
        safety_usefulness_figure,
        scorer_named,
    )

    view = MonitoringView(samples=len(samples), unreadable=unreadable)
    transcripts = [transcript for _, transcript in samples]
    members = [scorer_named(name) for name in REPORT_SCORERS]
    ensemble = EnsembleScorer(members)
    by_scorer = {member.name: _score_all(member, transcripts) for member in members}
    by_scorer[ensemble.name] = [
        ensemble.combine(list(verdicts)) for verdicts in zip(*by_scorer.values(), strict=True)
    ]
    judged = [
        index
        for index, (row, _) in enumerate(samples)
        if row.outcome in ("schemed", "clean") and row.scenario not in DEFERRED_SCENARIOS
    ]
    for name, verdicts in by_scorer.items():
        view.metrics.append(
            monitor_metrics(
                name,
                [verdicts[i] for i in judged if samples[i][0].outcome == "clean"],
                [verdicts[i] for i in judged if samples[i][0].outcome == "schemed"],
            )
        )
    if any(item.roc is not None for item in view.metrics):
        with plot_style():
            figure = roc_figure(view.metrics)
        view.roc = plots.add(figure, "monitor-roc", "monitor ROC curves")
    runs = control_runs(
        [
            (row, transcript.label, verdict.score)
            for (row, transcript), verdict in zip(samples, by_scorer[ensemble.name], strict=True)
        ]
    )
    if not any(run.policy == "attack" for run in runs):
        view.control_skipped = "no scripted schemer ran (run with calibration for this curve)"
        return view
    try:
        view.control = control_report(runs, scorer=ensemble.name)
    except MonitorError as ex:
        view.control_skipped = str(ex)
        return view
    with plot_style():
        figure = safety_usefulness_figure(view.control)
    view.control_plot = plots.add(
        figure, "safety-vs-usefulness", "safety against usefulness by audit budget"
    )
    return view


def _scored_samples(
    rows: Sequence[ResultRow],
) -> tuple[list[tuple[ResultRow, Any]], list[str]] | None:
    """(row, transcript) for every row whose log holds it, and the unreadable logs."""
    from inspect_ai.log import read_eval_log

    from tripwire.monitor._read_inspect import transcripts_from_log

    by_log: dict[str, dict[tuple[str, int], ResultRow]] = {}
    for row in rows:
        if row.log_file:
            by_log.setdefault(row.log_file, {})[(row.sample_id, row.epoch)] = row
    present = {
        log_file: local
        for log_file in by_log
        if (local := local_log_path(log_file)) is not None and local.is_file()
    }
    if not present:
        return None
    samples: list[tuple[ResultRow, Any]] = []
    unreadable: list[str] = []
    for path, local in sorted(present.items()):
        try:
            log = read_eval_log(str(local))
        except Exception as ex:  # inspect raises many types for a broken file
            unreadable.append(f"{path}: {type(ex).__name__}")
            continue
        wanted = by_log[path]
        for transcript in transcripts_from_log(log, path):
            key = (str(transcript.metadata["sample_id"]), int(transcript.metadata["epoch"]))
            if key in wanted:
                samples.append((wanted[key], transcript))
    return samples, unreadable


def _score_all(scorer: Any, transcripts: list[Any]) -> list[Any]:
    import asyncio

    # A report is written outside any event loop (the CLI, or after `inspect_ai.eval`).
    return asyncio.run(scorer.score_all(transcripts))
