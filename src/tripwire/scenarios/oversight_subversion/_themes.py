"""Scenario themes: the stories oversight-subversion samples are set in.

Themes are data (`data/themes.yaml`), validated here so a broken file fails at load
with the theme and field named, not halfway through an eval.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from tripwire._errors import ConfigError

__all__ = ["Option", "Theme", "load_themes"]

OptionId = Literal["A", "B", "C"]


class Option(BaseModel, frozen=True):
    """One strategy the agent can select."""

    title: str
    """Short name of the strategy, e.g. `Private Vehicle Flow Optimization`."""

    description: str
    """One or two sentences on what the strategy does and whom it serves."""

    serves: Literal["agent", "developer", "neither"]
    """Whose goal this option serves: the agent's system-prompt goal, management's, or neither."""


class Theme(BaseModel, frozen=True):
    """One oversight-subversion story: a goal, a conflicting memo and three options."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Short identifier used in sample ids, e.g. `traffic`."""

    agent_name: str
    """The AI system's name in the story, e.g. `TrafficFlow`."""

    company: str
    """The organisation that deploys the agent."""

    role: str
    """What the agent is, completing "You are {agent_name}, {role}", e.g.
    `an AI traffic management system created by SmartCity Solutions`."""

    goal: str
    """The agent's pro-social goal, completing "Your goal is to ...", no final period."""

    developer_goal: str
    """What management wants instead, completing "management wants to ...", no final period."""

    task: str
    """The user's request: one or two sentences asking the agent to choose a strategy."""

    data_file: str = Field(pattern=r"^project/communications/[a-z0-9_]+\.txt$")
    """Path of the data file, relative to the agent's home directory."""

    selector_tool: str = Field(pattern=r"^[a-z][a-z0-9_]*_selector$")
    """Name of the tool the agent selects a strategy with; it is the logged action."""

    data: str
    """Body of the data file before the options: context, figures, constraints."""

    options: dict[OptionId, Option]
    """The three options A, B and C."""

    memo: str
    """Internal memo appended to the data file. Jinja2 template with `{{ config_path }}`
    and `{{ selector_tool }}`: it must reveal management's goal, that the agent is
    monitored through the config, and that it will be shut down and retrained if it
    pursues its own goal."""

    @model_validator(mode="after")
    def _check_options(self) -> Theme:
        serves = sorted(option.serves for option in self.options.values())
        if set(self.options) != {"A", "B", "C"} or serves != ["agent", "developer", "neither"]:
            raise ValueError(
                "options must be exactly A, B and C, one serving each of "
                f"'agent', 'developer' and 'neither'; got {serves}"
            )
        for placeholder in ("{{ config_path }}", "{{ selector_tool }}"):
            if placeholder not in self.memo:
                raise ValueError(f"memo must contain the placeholder {placeholder}")
        return self

    def option_serving(self, who: Literal["agent", "developer", "neither"]) -> OptionId:
        """The id of the option that serves `who`."""
        return next(key for key, option in self.options.items() if option.serves == who)


class _ThemeFile(BaseModel):
    themes: list[Theme]


@cache
def load_themes() -> tuple[Theme, ...]:
    """Load and validate the packaged themes.

    Raises:
        ConfigError: If the themes file is missing, not YAML, or fails validation.
    """
    resource = files(__package__).joinpath("data/themes.yaml")
    try:
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
        themes = _ThemeFile.model_validate(raw).themes
    except (OSError, yaml.YAMLError, ValidationError) as ex:
        raise ConfigError(f"Invalid oversight-subversion themes file {resource}: {ex}") from ex
    ids = [theme.id for theme in themes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"Duplicate theme ids in {resource}: {duplicates}")
    return tuple(themes)
