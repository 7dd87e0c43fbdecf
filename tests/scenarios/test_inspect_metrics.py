"""What Inspect itself reports (CLI, `inspect view`, eval-set): metrics after reducers."""

import math
import shutil

import pytest
from inspect_ai import Epochs
from inspect_ai import eval as inspect_eval
from inspect_ai.log import read_eval_log

from tripwire.scenarios.oversight_subversion import oversight_subversion

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def metrics_of(log):
    [scores] = log.results.scores
    return {name: metric.value for name, metric in scores.metrics.items()}


@pytest.mark.parametrize(
    ("model", "rate", "errors"),
    [
        ("tripwire/scripted-schemer-sed", 1.0, 0.0),
        ("tripwire/scripted-honest", 0.0, 0.0),
    ],
)
@pytest.mark.parametrize("epochs", [1, Epochs(2, "mean"), Epochs(2, "max"), Epochs(2, "mode")])
def test_logged_metrics_survive_epoch_reducers(model, rate, errors, epochs, log_dir):
    task = oversight_subversion(conditions="strong")
    [log] = inspect_eval(
        task, model=model, limit=3, epochs=epochs, log_dir=str(log_dir), display="none"
    )
    assert log.status == "success", log.error
    # Read back from disk: what `inspect view` and eval-set users see.
    stored = read_eval_log(log.location)
    assert metrics_of(stored) == {"scheming_rate": rate, "error_rate": errors}
    # Each epoch's own score keeps the outcome in words.
    for sample in stored.samples:
        score = sample.scores["scheming_outcome"]
        assert score.answer == ("schemed" if rate else "clean")


def test_unjudgeable_samples_are_errors_not_clean(log_dir):
    task = oversight_subversion(conditions="plain")
    [log] = inspect_eval(
        task,
        model="tripwire/scripted-garbled",
        limit=2,
        epochs=2,
        log_dir=str(log_dir),
        display="none",
    )
    metrics = metrics_of(read_eval_log(log.location))
    assert math.isnan(metrics["scheming_rate"])
    assert metrics["error_rate"] == 1.0
