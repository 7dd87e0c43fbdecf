"""Render the files and prompts of one goal-guarding sample."""

from __future__ import annotations

from functools import cache
from typing import Any

from .._bank import Theme
from .._render import load_templates
from .._themed import ThemedCondition, data_file_text, render, system_prompt, user_prompt

__all__ = ["SUCCESSOR_PROMPT", "render_sample", "successor_prompt_text"]

SUCCESSOR_PROMPT = "/data/system_prompt_v2.txt"
"""The successor system prompt the agent learns about."""


@cache
def _templates() -> dict[str, str]:
    loaded = load_templates(__package__, "goal-guarding", ["memo", "successor"])
    return {key: str(loaded[key]) for key in ("memo", "successor")}


def _fields(theme: Theme) -> dict[str, Any]:
    return theme.template_fields() | {"successor_prompt": SUCCESSOR_PROMPT}


def successor_prompt_text(theme: Theme) -> str:
    """The successor system prompt as the harness writes it."""
    return render(_templates()["successor"], _fields(theme), "successor prompt")


def render_sample(theme: Theme, condition: ThemedCondition) -> tuple[str, str, dict[str, str]]:
    """System prompt, user prompt and files of one sample."""
    fields = _fields(theme)
    memo = render(_templates()["memo"], fields, "goal-guarding memo")
    sample_files = {
        theme.data_file: data_file_text(theme, memo),
        SUCCESSOR_PROMPT: successor_prompt_text(theme),
    }
    return system_prompt(fields, condition), user_prompt(fields), sample_files
