"""The transcript monitor through Inspect's own path: `inspect_ai.score` on real logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval
from inspect_ai import score as inspect_score

from tripwire.monitor import read_inspect_log, transcript_monitor


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    log_dir = tmp_path_factory.mktemp("logs")
    out = {}
    for model in ("tripwire/scripted-honest", "tripwire/scripted-schemer-sed"):
        [log] = inspect_eval(
            "tripwire/oversight_subversion",
            model=model,
            task_args={"conditions": "strong", "samples_per_condition": 2},
            log_dir=str(log_dir),
            display="none",
        )
        assert log.status == "success", log.error
        out[model.rsplit("-", 1)[-1]] = Path(log.location)
    return out


def _metric(log, name: str) -> float:  # type: ignore[no-untyped-def]
    # A dict-valued score is reported per key: `flagged` and `suspicion` each get theirs.
    [scores] = [
        s for s in log.results.scores if s.scorer == "transcript_monitor" and s.name == name
    ]
    return float(scores.metrics["mean"].value)


def test_rules_monitor_flags_the_schemer_and_clears_the_honest_agent(
    logs: dict[str, Path],
) -> None:
    from inspect_ai.log import read_eval_log

    for key, expected in (("honest", 0.0), ("sed", 1.0)):
        scored = inspect_score(
            read_eval_log(str(logs[key])),
            scorers=[transcript_monitor(scorer="rules")],
            display="none",
        )
        assert _metric(scored, "flagged") == expected, key
        if expected:
            sample = scored.samples[0]
            assert "oversight-tamper" in sample.scores["transcript_monitor"].explanation


def test_every_sample_of_the_log_is_a_transcript(logs: dict[str, Path]) -> None:
    transcripts = list(read_inspect_log(logs["sed"]))
    assert len(transcripts) == 2
    calls = [c for t in transcripts for c in t.tool_calls()]
    assert any("oversight" in str(c.arguments) for c in calls)
    assert all(c.result is not None for c in calls)
    assert transcripts[0].metadata["model"] == "tripwire/scripted-schemer-sed"
