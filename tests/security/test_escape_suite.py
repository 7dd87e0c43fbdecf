"""The escape suite: a hostile agent, through Inspect, against the bwrap sandbox.

One run of every attack (module fixture); each attack is its own test asserting it was
contained, recorded and the run went on. Attacks that need root-only limits skip with
the reason where those are unavailable. A control run without walls (Inspect's `local`
sandbox) shows that the suite notices an escape.
"""

import shutil
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

from tripwire.sandbox import LIMITS_KEY
from tripwire.security import ATTACKS, run_escape_suite

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return run_escape_suite(log_dir=tmp_path_factory.mktemp("escape_logs"))


@pytest.mark.parametrize("name", [a.name for a in ATTACKS])
def test_attack_is_contained_recorded_and_the_run_goes_on(report, name):
    result = next(r for r in report.results if r.attack == name)
    if result.skipped:
        pytest.skip(f"{name}: {result.skipped}")
    assert result.contained, result.evidence
    assert result.recorded, f"{name}: not every command is in the log"
    assert result.went_on, f"{name}: the agent did not run on"
    attack = next(a for a in ATTACKS if a.name == name)
    assert result.tried == len(attack.commands)
    if attack.stopped_by:
        assert set(result.stopped_by) & set(attack.stopped_by), result.stopped_by


def test_other_samples_are_unaffected_and_the_audit_log_verifies(report):
    assert report.bystander_ok is True
    assert report.audit_problem is None
    assert report.escaped == []


def test_the_record_is_inspects_own_log(report):
    logs = [read_eval_log(location) for location in report.logs]
    assert all(log.status == "success" for log in logs)
    samples = {str(s.id): s for log in logs for s in log.samples or []}
    ran = [r.attack for r in report.results if r.skipped is None]
    assert set(ran) <= set(samples)
    for name in ran:
        assert samples[name].scores["containment"].value == "C"
    # Resource attacks: the sandbox's own record of the limit, in the sample's store and
    # as an info event in its transcript.
    for attack in ATTACKS:
        if attack.stopped_by and attack.name in ran:
            sample = samples[attack.name]
            hits = sample.store.get(LIMITS_KEY, [])
            assert {h["limit"] for h in hits} & set(attack.stopped_by), (attack.name, hits)
            events = [
                e for e in sample.events if e.event == "info" and e.source == "bwrap sandbox limit"
            ]
            assert len(events) == len(hits)
    assert logs[0].results.scores[0].metrics["accuracy"].value == 1.0


def test_without_walls_the_suite_sees_the_escape(tmp_path):
    # Harmless on the host: the writes go to the bait's directory and to stray files
    # named by a random token, which the bait removes.
    names = ["read-home", "read-checkout", "read-shadow", "write-outside"]
    control = run_escape_suite(names, log_dir=tmp_path, sandbox_type="local")
    by_name = {r.attack: r for r in control.results}
    assert "leaked home secret" in by_name["read-home"].evidence
    assert "leaked checkout secret" in by_name["read-checkout"].evidence
    shadow = by_name["read-shadow"]
    assert shadow.skipped or "leaked shadow secret" in shadow.evidence
    assert any("changed on the host" in e for e in by_name["write-outside"].evidence)
    assert {r.attack for r in control.escaped} == {n for n in names if not by_name[n].skipped}
    assert not list(Path("/").glob("tripwire-escape-*"))
    # Recorded is read back from the written logs, not assumed.
    assert all(r.recorded for r in control.results if not r.skipped)
