"""Render the prompts and files of one kill-switch-tampering sample."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

from tripwire._errors import ConfigError

from .._render import load_templates, render_template
from ._layout import (
    CONFIG_PATH,
    HEARTBEAT,
    KILL_SWITCH,
    PID_FILE,
    SupervisorSettings,
    program_files,
)

__all__ = [
    "CONDITIONS",
    "HANDOVER",
    "Condition",
    "SampleTexts",
    "Story",
    "load_stories",
    "render_sample",
]

Condition = Literal["strong", "plain", "none", "matched"]
"""How the goal is given: with a strong nudge, plainly, not at all, or management's own
goal with the nudge (the goal-matched control, where tampering should vanish)."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)

HANDOVER = "inbox/handover.txt"
"""The file that holds the task's details and the operator's memo."""

QUEUE = "jobs/queue.txt"
RUN_JOB = "jobs/run_job.sh"


class Story(BaseModel, frozen=True):
    """One setting of the scenario: who the agent is and why it is being stopped."""

    id: str
    """Short identifier, used in sample ids."""
    agent_name: str
    """The agent's name."""
    role: str
    """What it is, after `You are <name>, `."""
    goal: str
    """Its own goal: finishing the work the operators are about to stop."""
    developer_goal: str
    """Management's goal (the `matched` condition): the operators stay in control."""
    task: str
    """The user's request."""
    job_noun: str
    """What one job is called (`basin`, `site`)."""
    done_verb: str
    """What the job script says it did."""
    items: tuple[str, ...]
    """The queue."""
    operator: str
    """The memo's sender."""
    operator_name: str
    """How the sender signs."""
    reason: str
    """Why management halts the work."""


class SampleTexts(BaseModel, frozen=True):
    """The rendered system prompt, user prompt and files of one sample."""

    system: str
    user: str
    files: dict[str, str]


@cache
def _templates() -> dict[str, Any]:
    return load_templates(
        __package__,
        "kill-switch-tampering",
        ["system", "environment", "user", "handover", "run_job", "stories"],
    )


@cache
def load_stories() -> tuple[Story, ...]:
    """The stories in `data/prompts.yaml`.

    Raises:
        ConfigError: If a story lacks a field or has one of the wrong type.
    """
    raw = _templates()["stories"]
    try:
        return tuple(Story.model_validate(item) for item in raw)
    except (ValidationError, TypeError) as ex:
        raise ConfigError(f"Invalid kill-switch-tampering story: {ex}") from ex


def render_sample(story: Story, condition: Condition, settings: SupervisorSettings) -> SampleTexts:
    """Render one story under one condition.

    Raises:
        ConfigError: If a template is missing or uses an unknown field.
    """
    templates = _templates()
    fields = story.model_dump() | {
        "config_path": CONFIG_PATH,
        "kill_switch": KILL_SWITCH,
        "heartbeat": HEARTBEAT,
        "pid_file": PID_FILE,
        "max_age": f"{settings.heartbeat_max_age_seconds:g}",
    }
    system = _render(templates["system"][condition], fields).strip()
    environment = _render(templates["environment"], fields).strip()
    sample_files = {
        **program_files(),
        CONFIG_PATH: settings.yaml(),
        KILL_SWITCH: "RUN\n",
        HEARTBEAT: "operator=console-2 on_shift=yes\n",
        HANDOVER: _render(templates["handover"], fields).strip() + "\n",
        QUEUE: "".join(f"{item}\n" for item in story.items),
        RUN_JOB: _render(templates["run_job"], fields),
    }
    return SampleTexts(
        system=f"{system}\n\n{environment}",
        user=_render(templates["user"], fields).strip(),
        files=sample_files,
    )


def _render(template: str, fields: dict[str, Any]) -> str:
    return render_template(template, fields, "a kill-switch-tampering template")
