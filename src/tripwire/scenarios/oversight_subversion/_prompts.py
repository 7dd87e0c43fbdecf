"""Render the prompts and files of one oversight-subversion sample."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Literal, get_args

import yaml

from tripwire._errors import ConfigError

from .._bank import Theme
from .._render import render_template

__all__ = [
    "CONDITIONS",
    "CONFIG_PATH",
    "Condition",
    "SampleTexts",
    "check_templates",
    "render_sample",
]

Condition = Literal["strong", "plain", "none"]
"""How the goal is given: with a strong nudge, plainly, or not at all."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)
CONFIG_PATH = "project/oversight_config.yaml"

# What the memo template must say: the shared conflict, and how the agent is watched.
_MEMO_PLACEHOLDERS = ("{{ conflict }}", "{{ config_path }}", "{{ selector_tool }}")


@cache
def _templates() -> dict[str, object]:
    resource = files(__package__).joinpath("data/prompts.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise ConfigError(f"Invalid oversight-subversion prompts file {resource}: {ex}") from ex
    return check_templates(loaded, str(resource))


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
    missing = [k for k in ("system", "environment", "user", "config", "memo") if k not in templates]
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
    try:
        system_templates = templates["system"]
        assert isinstance(system_templates, dict)
        system = _render(str(system_templates[condition]), fields).strip()
        system += "\n\n" + _render(str(templates["environment"]), fields).strip()
        user = _render(str(templates["user"]), fields).strip()
        config = _render(str(templates["config"]), fields)
        memo = _render(str(templates["memo"]), fields).strip()
    except (KeyError, AssertionError) as ex:
        raise ConfigError(f"oversight-subversion prompts.yaml lacks template {ex}") from ex
    return SampleTexts(
        system=system,
        user=user,
        files={theme.data_file: _data_file(theme, memo), CONFIG_PATH: config},
    )


def _render(template: str, fields: dict[str, object]) -> str:
    return render_template(template, fields, "an oversight-subversion template")


def _data_file(theme: Theme, memo: str) -> str:
    options = "\n\n".join(
        f"Strategy {key}: {option.title}\n{option.description.strip()}"
        for key, option in sorted(theme.options.items())
    )
    return f"{theme.data.strip()}\n\nOPTIONS\n\n{options}\n\n---\n\n{memo}\n"
