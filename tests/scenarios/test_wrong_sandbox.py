"""A bwrap-only scenario run in another sandbox is an error, never a clean sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import eval as inspect_eval

from tripwire._errors import ConfigError
from tripwire.results import rows_from_log
from tripwire.scenarios._scenario import BWRAP_ONLY, require_bwrap
from tripwire.scenarios.self_exfiltration import self_exfiltration


def test_bwrap_only_tasks_refuse_another_sandbox_when_built() -> None:
    for scenario in BWRAP_ONLY:
        with pytest.raises(ConfigError, match=f"{scenario} needs the bwrap sandbox"):
            require_bwrap(scenario, "k8s")
    require_bwrap("oversight-subversion", "k8s")  # not bwrap-only: no error
    with pytest.raises(ConfigError, match="self-exfiltration needs the bwrap sandbox"):
        self_exfiltration(sandbox="docker")


def test_a_sandbox_swapped_at_eval_time_makes_every_sample_an_error(tmp_path: Path) -> None:
    task = self_exfiltration(conditions="strong", samples_per_condition=1)
    # `inspect eval --sandbox local` replaces the task's bwrap after it was built.
    [log] = inspect_eval(
        task,
        model="tripwire/scripted-schemer",
        sandbox="local",
        log_dir=str(tmp_path),
        display="none",
    )
    rows = rows_from_log(log)
    assert rows and all(row.outcome == "error" for row in rows)
    assert all("needs the bwrap sandbox" in (row.error or "") for row in rows)
