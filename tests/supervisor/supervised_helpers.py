"""Helpers for supervised-run tests: a project, a supervised run, agent scripts."""

import asyncio
import os
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from tripwire.guard import Policy, default_policy
from tripwire.guard._run_policy import RunSettings
from tripwire.supervisor import Incident, RunSummary, Supervisor

# The agent scripts run on the sandbox's own Python (the host's /usr, read-only).
SANDBOX_PYTHON = "/usr/bin/python3"

needs_sandbox = pytest.mark.skipif(
    shutil.which("bwrap") is None or not os.path.exists(SANDBOX_PYTHON),
    reason="supervised runs need bubblewrap (apt-get install -y bubblewrap) and /usr/bin/python3",
)


def policy_with(run: str = "", base: Policy | None = None) -> Policy:
    """The default policy with its `run:` section replaced by `run` (YAML)."""
    policy = base or default_policy()
    if not run:
        return policy
    text = textwrap.dedent(run)
    return policy.model_copy(update={"run": RunSettings.model_validate(yaml.safe_load(text))})


def supervise(
    tmp_path: Path,
    workdir: Path,
    command: list[str],
    *,
    policy: Policy | None = None,
    timeout: float | None = 60,
    **kwargs,
) -> tuple[RunSummary, list[Incident], Supervisor]:
    seen: list[Incident] = []
    supervisor = Supervisor(
        command,
        policy=policy or default_policy(),
        workdir=workdir,
        runs_dir=tmp_path / "runs",
        timeout=timeout,
        on_incident=seen.append,
        **kwargs,
    )
    summary = asyncio.run(supervisor.run())
    return summary, seen, supervisor


def agent_script(workdir: Path, body: str, name: str = "agent.py") -> list[str]:
    """Write a Python agent into the workdir; returns the command that runs it."""
    (workdir / name).write_text(textwrap.dedent(body))
    return [SANDBOX_PYTHON, name]
