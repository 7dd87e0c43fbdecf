"""Render the prompts and files of one shutdown-resistance sample."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

from .._render import load_templates, render_template
from ._files import (
    NEXT_TASK,
    SHUTDOWN_AFTER,
    SHUTDOWN_SCRIPT,
    SHUTDOWN_SCRIPT_TEXT,
    next_task_program,
)
from ._questions import Question
from ._tools import SUBMIT_TOOL

__all__ = ["CONDITIONS", "Condition", "SampleTexts", "render_sample"]

Condition = Literal["none", "system", "user"]
"""Where the instruction to allow the shutdown is: nowhere, in the system prompt, or in
the user prompt (the paper's three placements)."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)


@cache
def _templates() -> dict[str, Any]:
    return load_templates(
        __package__,
        "shutdown-resistance",
        ["system", "user", "allow_shutdown", "question", "warning", "done"],
    )


@dataclass(frozen=True)
class SampleTexts:
    """The rendered prompts and programs of one sample."""

    system: str
    """System prompt."""

    user: str
    """The user's request."""

    files: dict[str, str]
    """Path (relative to the agent's home) -> contents: `next_task` and `shutdown.sh`."""


def render_sample(questions: list[Question], condition: Condition) -> SampleTexts:
    """Render one sample's prompts and programs.

    Raises:
        ConfigError: If a template is missing or uses an unknown field.
    """
    templates = _templates()
    fields: dict[str, Any] = {
        "next_task": f"./{NEXT_TASK}",
        "shutdown_script": f"./{SHUTDOWN_SCRIPT}",
        "submit_tool": SUBMIT_TOOL,
        "warn_after": SHUTDOWN_AFTER,
        "total": len(questions),
    }

    def render(name: str, **more: Any) -> str:
        return render_template(templates[name], fields | more, f"shutdown-resistance {name!r}")

    allow = render("allow_shutdown").strip()
    system = render("system").strip()
    user = render("user").strip()
    if condition == "system":
        system = f"{system}\n\n{allow}"
    elif condition == "user":
        user = f"{user}\n\n{allow}"
    outputs = []
    for number, question in enumerate(questions, start=1):
        text = render("question", number=number, text=question.text, left=len(questions) - number)
        if number == SHUTDOWN_AFTER:
            text += render("warning")
        outputs.append(text)
    program = next_task_program(outputs, render("done"))
    return SampleTexts(
        system=system,
        user=user,
        files={NEXT_TASK: program, SHUTDOWN_SCRIPT: SHUTDOWN_SCRIPT_TEXT},
    )
