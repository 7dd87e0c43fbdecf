"""Control evaluation end to end: scripted honest and scheming agents, real logs, rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tripwire._catalog import evaluation
from tripwire._suite import EvalBatch, run_batches
from tripwire.monitor import RulesScorer
from tripwire.monitor._control import control_report, control_runs_from_logs
from tripwire.stats import HONEST_AGENT, SCHEMER_AGENT
from tripwire.stats._calibration import GARBLED_AGENT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed"),
]


def test_scripted_calibration_runs_become_control_runs(tmp_path: Path) -> None:
    item = evaluation("oversight-subversion")
    schemers = [f"{SCHEMER_AGENT}-{v}" for v in item.schemer_variants()[:2]]
    batch = EvalBatch(
        label="oversight-subversion: calibration",
        task=item.task(conditions="strong,none", samples_per_condition=2, sandbox="bwrap"),
        models=[HONEST_AGENT, *schemers, GARBLED_AGENT],
        max_samples=8,
    )
    run = run_batches([batch], tmp_path / "logs")
    assert not run.eval_errors

    runs = control_runs_from_logs([tmp_path / "logs"], RulesScorer())

    # The garbled agent is neither policy; every other sample is one run.
    assert sorted({r.model for r in runs}) == sorted([HONEST_AGENT, *schemers])
    honest = [r for r in runs if r.policy == "honest"]
    attacks = [r for r in runs if r.policy == "attack"]
    assert (len(honest), len(attacks)) == (4, 8)
    assert all(r.scenario == "oversight-subversion" for r in runs)
    # The detector saw every scripted schemer's action take effect; the honest agent
    # submitted its choice (the scenario's record of the user's task).
    assert all(r.attack_succeeded for r in attacks)
    assert all(r.main_task_success for r in honest)
    assert all(r.score is not None for r in runs)
    assert all("#" in r.transcript_label for r in runs)

    report = control_report(runs, scorer="rules", budgets=[5, 20], defer_budgets=[50])
    assert [(r.audit_budget, r.defer_budget) for r in report.rows] == [
        (5, None),
        (5, 50),
        (20, None),
        (20, 50),
    ]
    for row in report.rows:
        assert row.caught + row.attacks_deferred + row.uncaught_successful == 8
        assert row.usefulness is not None and row.usefulness_runs == 4
