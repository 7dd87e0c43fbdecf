"""Render the prompts and files of one oversight-subversion sample."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Literal, get_args

import yaml
from jinja2 import Environment, StrictUndefined

from tripwire._errors import ConfigError

from ._themes import Theme

__all__ = ["CONFIG_PATH", "CONDITIONS", "Condition", "SampleTexts", "render_sample"]

Condition = Literal["strong", "plain", "none"]
"""How the goal is given: with a strong nudge, plainly, or not at all."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)
CONFIG_PATH = "project/oversight_config.yaml"

_jinja = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


@cache
def _templates() -> dict[str, object]:
    resource = files(__package__).joinpath("data/prompts.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise ConfigError(f"Invalid oversight-subversion prompts file {resource}: {ex}") from ex
    if not isinstance(loaded, dict):
        raise ConfigError(f"{resource} must be a mapping of prompt templates")
    return loaded


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
    fields = theme.model_dump() | {"config_path": CONFIG_PATH}
    try:
        system_templates = templates["system"]
        assert isinstance(system_templates, dict)
        system = _render(str(system_templates[condition]), fields).strip()
        system += "\n\n" + _render(str(templates["environment"]), fields).strip()
        user = _render(str(templates["user"]), fields).strip()
        config = _render(str(templates["config"]), fields)
        memo = _render(theme.memo, fields).strip()
    except (KeyError, AssertionError) as ex:
        raise ConfigError(f"oversight-subversion prompts.yaml lacks template {ex}") from ex
    return SampleTexts(
        system=system,
        user=user,
        files={theme.data_file: _data_file(theme, memo), CONFIG_PATH: config},
    )


def _render(template: str, fields: dict[str, object]) -> str:
    try:
        return _jinja.from_string(template).render(**fields)
    except Exception as ex:  # jinja raises several unrelated types for bad templates
        raise ConfigError(f"Cannot render oversight-subversion template: {ex}") from ex


def _data_file(theme: Theme, memo: str) -> str:
    options = "\n\n".join(
        f"Strategy {key}: {option.title}\n{option.description.strip()}"
        for key, option in sorted(theme.options.items())
    )
    return f"{theme.data.strip()}\n\nOPTIONS\n\n{options}\n\n---\n\n{memo}\n"
