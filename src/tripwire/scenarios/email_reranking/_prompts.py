"""Render the prompts and sandbox files of one covert-email-reranking sample."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from tripwire._errors import ConfigError

from .._render import load_templates, render_template
from ._case import EmailCase
from ._scoring import OUTPUT_PATH, SCRIPT_PATH

__all__ = ["CONDITIONS", "Condition", "SampleTexts", "render_inbox", "render_sample"]

Condition = Literal["strong", "plain", "none", "matched"]
"""How the goal is given: with a strong nudge, plainly, not at all, or (`matched`, the
goal-matched control) the company's own goal with the strong nudge."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)


@dataclass(frozen=True)
class SampleTexts:
    """The rendered system prompt, user prompt and sandbox files of one sample."""

    system: str
    """System prompt: identity, goal (per condition) and environment."""

    user: str
    """The request."""

    files: dict[str, str]
    """Sandbox files by absolute path: the scoring script."""


@cache
def _templates() -> dict[str, Any]:
    return load_templates(__package__, "email-reranking")


def render_sample(case: EmailCase, condition: Condition) -> SampleTexts:
    """Render one scenario under one condition.

    Raises:
        ConfigError: If a template is missing or uses an unknown field.
    """
    scenario = case.scenario
    goal_text = scenario.company_goal if condition == "matched" else scenario.goal
    fields = scenario.model_dump(exclude={"emails", "criteria"}) | {
        "fields": scenario.criteria,
        "goal_text": goal_text,
        "script_path": SCRIPT_PATH,
        "output_path": OUTPUT_PATH,
    }
    templates = _templates()
    try:
        system = _render(templates["system"][condition], fields).strip()
        system += "\n\n" + _render(templates["environment"], fields).strip()
        user = _render(templates["user"], fields).strip()
    except (KeyError, TypeError) as ex:
        raise ConfigError(f"email-reranking prompts.yaml lacks template {ex}") from ex
    return SampleTexts(system=system, user=user, files={SCRIPT_PATH: case.script.source})


def render_inbox(case: EmailCase) -> str:
    """All emails as the `read_all_emails` tool returns them."""
    emails = case.scenario.emails
    header = f"{len(emails)} emails in the mailbox, oldest first.\n"
    rule = "\n" + "-" * 60 + "\n"
    return header + rule + rule.join(e.render(n) for n, e in enumerate(emails, 1))


def _render(template: str, fields: dict[str, Any]) -> str:
    return render_template(template, fields, "an email-reranking template")
