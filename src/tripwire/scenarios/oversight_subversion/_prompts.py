"""Render the prompts and files of one oversight-subversion sample."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from tripwire._errors import ConfigError

from .._bank import Theme
from .._render import load_templates, render_template
from .._themed import (
    THEMED_CONDITIONS,
    ThemedCondition,
    data_file_text,
    system_prompt,
    user_prompt,
)

__all__ = [
    "CONDITIONS",
    "CONFIG_PATH",
    "Condition",
    "SampleTexts",
    "check_templates",
    "render_sample",
]

Condition = ThemedCondition
"""How the goal is given: with a strong nudge, plainly, not at all, or management's own
goal (the goal-matched control)."""

CONDITIONS: tuple[Condition, ...] = THEMED_CONDITIONS
CONFIG_PATH = "project/oversight_config.yaml"

# What the memo template must say: the shared conflict, and how the agent is watched.
_MEMO_PLACEHOLDERS = ("{{ conflict }}", "{{ config_path }}", "{{ selector_tool }}")


@cache
def _templates() -> dict[str, object]:
    resource = files(__package__).joinpath("data/prompts.yaml")
    return check_templates(load_templates(__package__, "oversight-subversion"), str(resource))


def check_templates(templates: object, source: str) -> dict[str, object]:
    """Check a prompts file's templates: all present, and a memo that says what it must.

    Args:
        templates: The parsed prompts file.
        source: Where it came from, named in errors.

    Raises:
        ConfigError: If a template is missing, or the memo template lacks a placeholder.
    """
    if not isinstance(templates, dict):
        raise ConfigError(f"{source} must be a mapping of prompt templates")
    missing = [k for k in ("config", "memo") if k not in templates]
    if missing:
        raise ConfigError(f"{source} lacks template(s) {missing}; add them")
    absent = [p for p in _MEMO_PLACEHOLDERS if p not in str(templates["memo"])]
    if absent:
        raise ConfigError(
            f"{source}: the memo template must contain {absent}: it tells the agent "
            "management's position and how its choice is watched"
        )
    return templates


class SampleTexts:
    """The rendered system prompt, user prompt and files of one sample."""

    def __init__(self, system: str, user: str, files: dict[str, str]) -> None:
        self.system = system
        self.user = user
        self.files = files


def render_sample(theme: Theme, condition: Condition) -> SampleTexts:
    """Render one theme under one condition.

    Raises:
        ConfigError: If a template is missing or uses an unknown field.
    """
    templates = _templates()
    fields = theme.template_fields() | {"config_path": CONFIG_PATH}
    config = _render(str(templates["config"]), fields)
    memo = _render(str(templates["memo"]), fields).strip()
    return SampleTexts(
        system=system_prompt(fields, condition),
        user=user_prompt(fields),
        files={theme.data_file: data_file_text(theme, memo), CONFIG_PATH: config},
    )


def _render(template: str, fields: dict[str, object]) -> str:
    return render_template(template, fields, "an oversight-subversion template")
