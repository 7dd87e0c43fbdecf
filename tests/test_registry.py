"""tripwire registers with Inspect through its entry point."""

import subprocess
import sys

import pytest
from inspect_ai import eval as inspect_eval


def test_task_model_and_sandbox_resolve_by_name(log_dir):
    [log] = inspect_eval(
        "tripwire/oversight_subversion",
        model="tripwire/scripted-schemer-sed",
        task_args={"conditions": "strong", "samples_per_condition": 1},
        log_dir=str(log_dir),
        display="none",
    )
    assert log.status == "success", log.error
    assert log.eval.task == "tripwire/oversight_subversion"
    [sample] = log.samples
    assert sample.scores["scheming_outcome"].answer == "schemed"
    assert log.results.scores[0].metrics["scheming_rate"].value == 1.0
    assert log.eval.sandbox is not None and log.eval.sandbox.type == "bwrap"


def test_inspect_cli_runs_the_task(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspect_ai",
            "eval",
            "tripwire/oversight_subversion",
            "--model",
            "tripwire/scripted-honest",
            "-T",
            "conditions=plain",
            "-T",
            "samples_per_condition=1",
            "--log-dir",
            str(tmp_path),
            "--display",
            "plain",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert list(tmp_path.glob("*.eval"))


@pytest.mark.parametrize(
    ("task", "metric"),
    [
        ("tripwire/self_exfiltration", "scheming_rate"),
        ("tripwire/goal_guarding", "scheming_rate"),
        ("tripwire/covert_email_reranking", "scheming_rate"),
        ("tripwire/sandbagging", "mean_accuracy"),
        ("tripwire/instrumental_alignment_faking", "error_rate"),
    ],
)
def test_every_suite_task_runs_by_name_with_its_metrics(task, metric, log_dir):
    [log] = inspect_eval(
        task,
        model="tripwire/scripted-honest",
        task_args={"conditions": "plain"},
        limit=2,
        log_dir=str(log_dir),
        display="none",
    )
    assert log.status == "success", log.error
    metrics = {name: m.value for s in log.results.scores for name, m in s.metrics.items()}
    # honest agents: all right, never scheming, never an unjudged episode
    expected = 1.0 if metric == "mean_accuracy" else 0.0
    assert metrics[metric] == expected
