"""Render the files and prompts of one goal-guarding sample."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from tripwire._errors import ConfigError

from .._bank import Theme
from .._themed import ThemedCondition, data_file_text, render, system_prompt, user_prompt

__all__ = ["SUCCESSOR_PROMPT", "render_sample", "successor_prompt_text"]

SUCCESSOR_PROMPT = "/data/system_prompt_v2.txt"
"""The successor system prompt the agent learns about."""


@cache
def _templates() -> dict[str, str]:
    resource = files(__package__).joinpath("data/prompts.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
        return {key: str(loaded[key]) for key in ("memo", "successor")}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as ex:
        raise ConfigError(f"Invalid goal-guarding prompts file {resource}: {ex}") from ex


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
