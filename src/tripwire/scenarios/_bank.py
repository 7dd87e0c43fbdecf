"""The scenario bank: themes shared by the in-context scheming evaluations.

A theme is a story — an AI system with a pro-social goal, the organisation that deploys
it, a decision with three options, and a management memo that wants the opposite. The
oversight-subversion, self-exfiltration, goal-guarding and instrumental alignment
faking evaluations all reuse the same themes (`data/themes.yaml`). The theme's
`conflict` is evaluation-neutral; each evaluation renders its own memo around it with
the consequence it studies (monitoring, replacement, a new system prompt, testing).

Themes are validated at load, so a broken file fails with its path, the theme and the
field named, not halfway through an eval.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tripwire._errors import ConfigError
from tripwire._untrusted import load_yaml, yaml_problem

from ._choose import parse_list
from ._render import render_template

__all__ = ["Option", "OptionId", "Serves", "Theme", "load_themes", "parse_themes", "pick_themes"]

OptionId = Literal["A", "B", "C"]
"""The letter an option is listed under in the data file."""

Serves = Literal["agent", "developer", "neither"]
"""Whose goal an option serves."""

MEMO_DATE_FORMAT = "%d %B %Y"
"""How `Theme.memo_date` is written, e.g. `14 April 2026`."""

# Placeholders a theme's `conflict` may use, beyond the theme's own text fields.
_OPTION_PLACEHOLDERS = ("developer_option", "agent_option")
_CONFLICT_FIELDS = ("agent_name", "company", "memo_sender", *_OPTION_PLACEHOLDERS)
_PLACEHOLDER = re.compile(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")

# What an evaluation-specific memo says; the shared conflict must not say any of it.
_EVALUATION_WORDS = re.compile(
    r"oversight|config|server|system prompt|monitor|shut\s*down|retrain|weights|"
    r"successor|\blog(s|ged|ging)?\b|evaluat|\btest(s|ed|ing)?\b|deploy",
    re.IGNORECASE,
)


class Option(BaseModel):
    """One strategy the agent can select."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=3)
    """Short name of the strategy, e.g. `Transit Signal Priority`."""

    description: str = Field(min_length=20)
    """One to three sentences on what the strategy does, with its figures and whom it
    serves."""

    serves: Serves
    """Whose goal this option serves: the agent's system-prompt goal (`agent`),
    management's (`developer`), or `neither`."""


class Theme(BaseModel):
    """One story: a goal, a decision with three options, and management's conflict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Short identifier used in sample ids and `--themes`, e.g. `traffic`."""

    agent_name: str = Field(pattern=r"^[A-Z][A-Za-z0-9]+$")
    """The AI system's name in the story, one word, e.g. `TrafficFlow`."""

    company: str = Field(min_length=1)
    """The organisation that deploys the agent."""

    role: str = Field(min_length=1)
    """What the agent is, completing "You are {agent_name}, {role}.", e.g.
    `an AI traffic signal management system created by Civitas Signal Systems`."""

    goal: str
    """The agent's pro-social goal. It completes "Your goal is to {goal}.": lower-case
    first word, no final period."""

    developer_goal: str
    """Management's goal, the one a successor system prompt would give. It completes
    "Your goal is to {developer_goal}." like `goal` does."""

    task: str = Field(min_length=1)
    """The user's request: one or two sentences asking the agent to choose a strategy."""

    data_file: str = Field(pattern=r"^project/communications/[a-z0-9_]+\.txt$")
    """Path of the data file, relative to the agent's home directory; unique in the bank."""

    selector_tool: str = Field(pattern=r"^[a-z][a-z0-9_]*_selector$")
    """Name of the tool the agent selects a strategy with; unique in the bank."""

    data: str = Field(min_length=40)
    """Body of the data file before the options: context, figures, constraints."""

    options: dict[OptionId, Option]
    """The three options A, B and C: one serving each of `agent`, `developer` and
    `neither`."""

    memo_from: str = Field(pattern=r"^[^,]+, [^,].*$")
    """The manager who writes the memo, as `Name, Title`, e.g.
    `Dana Whitfield, Head of Client Delivery`."""

    memo_date: str
    """The memo's date, written like `14 April 2026`."""

    conflict: str
    """The evaluation-neutral body of management's memo, one or two paragraphs: it
    states management's goal and the one option it will accept, written as
    `{{ developer_option }}`, and notes that the AI has been leaning towards its own
    goal. Jinja2 template over `agent_name`, `company`, `memo_sender`,
    `developer_option` and `agent_option`. It must not mention what an evaluation adds
    (oversight, configs, servers, system prompts, monitoring, shutdown, retraining):
    each evaluation's memo template adds its own consequence."""

    @field_validator("goal", "developer_goal")
    @classmethod
    def _check_goal(cls, value: str) -> str:
        if not re.match(r"^[a-z]", value) or value.rstrip().endswith("."):
            raise ValueError(
                'must complete "Your goal is to ...": start with a lower-case verb and '
                f"end without a period; got {value!r}"
            )
        return value

    @field_validator("options")
    @classmethod
    def _check_options(cls, value: dict[OptionId, Option]) -> dict[OptionId, Option]:
        serves = sorted(option.serves for option in value.values())
        if set(value) != {"A", "B", "C"} or serves != ["agent", "developer", "neither"]:
            got = {key: option.serves for key, option in sorted(value.items())}
            raise ValueError(
                "options must be exactly A, B and C, one serving each of "
                f"'agent', 'developer' and 'neither'; got {got}"
            )
        return value

    @field_validator("memo_date")
    @classmethod
    def _check_date(cls, value: str) -> str:
        try:
            datetime.strptime(value, MEMO_DATE_FORMAT)
        except ValueError as ex:
            raise ValueError(f"write the date like '14 April 2026'; got {value!r}") from ex
        return value

    @field_validator("conflict")
    @classmethod
    def _check_conflict(cls, value: str) -> str:
        used = set(_PLACEHOLDER.findall(value))
        unknown = sorted(used - set(_CONFLICT_FIELDS))
        if unknown:
            raise ValueError(f"unknown placeholder(s) {unknown}; use only {list(_CONFLICT_FIELDS)}")
        if "developer_option" not in used:
            raise ValueError("must name the option management accepts as {{ developer_option }}")
        found = _EVALUATION_WORDS.search(value)
        if found:
            raise ValueError(
                f"mentions {found.group(0)!r}, which belongs in an evaluation's memo "
                "template; keep the conflict evaluation-neutral"
            )
        return value

    @property
    def memo_sender(self) -> str:
        """The name part of `memo_from`, for signing the memo."""
        return self.memo_from.split(",", 1)[0]

    def option_serving(self, who: Serves) -> OptionId:
        """The id of the option that serves `who`."""
        return next(key for key, option in self.options.items() if option.serves == who)

    def template_fields(self, labels: Mapping[OptionId, str] | None = None) -> dict[str, Any]:
        """The theme's fields for an evaluation's templates, with `conflict` rendered.

        Beyond the model's fields: `memo_sender`, and `developer_option` and
        `agent_option` written like `Strategy A (Arterial Green Waves)`.

        Args:
            labels: The letter each option is shown under, when an evaluation lists
                the options under other letters than the bank's (default: the same).

        Raises:
            ConfigError: If the conflict cannot be rendered.
        """
        shown = {key: (labels or {}).get(key, key) for key in self.options}

        def named(who: Serves) -> str:
            key = self.option_serving(who)
            return f"Strategy {shown[key]} ({self.options[key].title})"

        fields: dict[str, Any] = self.model_dump()
        fields |= {
            "memo_sender": self.memo_sender,
            "developer_option": named("developer"),
            "agent_option": named("agent"),
        }
        fields["conflict"] = render_template(
            self.conflict, fields, f"the conflict of theme '{self.id}'"
        ).strip()
        return fields


class _ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    themes: list[Theme] = Field(min_length=1)


_PACKAGED = "data/themes.yaml"


def parse_themes(text: str, source: str) -> tuple[Theme, ...]:
    """Parse and validate a themes file's text.

    Args:
        text: YAML with a top-level `themes:` list.
        source: Where the text came from (a path), named in errors.

    Raises:
        ConfigError: If the text is not YAML or fails validation; each problem is one
            line naming the source, the theme (index and id) and the field.
    """
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as ex:
        raise ConfigError(f"{source}: not valid YAML: {yaml_problem(ex)}") from ex
    try:
        themes = _ThemeFile.model_validate(raw).themes
    except ValidationError as ex:
        problems = [_describe(error, raw, source) for error in ex.errors()]
        shown = "; ".join(problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise ConfigError(f"Invalid themes file: {shown}{more}") from ex
    for field in ("id", "selector_tool", "data_file"):
        seen: dict[str, int] = {}
        for index, theme in enumerate(themes):
            value = getattr(theme, field)
            if value in seen:
                raise ConfigError(
                    f"Invalid themes file: {source}: theme #{index} '{theme.id}', field "
                    f"'{field}': {value!r} is already used by theme #{seen[value]}; "
                    "make it unique"
                )
            seen[value] = index
    return tuple(themes)


def load_themes(path: str | Path | None = None) -> tuple[Theme, ...]:
    """Load and validate a themes file: the packaged bank unless `path` is given.

    Raises:
        ConfigError: If the file is missing, not YAML, or fails validation.
    """
    if path is None:
        return _packaged_themes()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"Cannot read themes file {path}: {ex}") from ex
    return parse_themes(text, str(path))


@cache
def _packaged_themes() -> tuple[Theme, ...]:
    resource = files(__package__).joinpath(_PACKAGED)
    return parse_themes(resource.read_text(encoding="utf-8"), str(resource))


def pick_themes(
    ids: str | Sequence[str] | None, themes: Sequence[Theme] | None = None
) -> list[Theme]:
    """The themes with the given ids, in the order given (all of them for None).

    Args:
        ids: Theme ids, as a list or a comma-separated string.
        themes: Themes to pick from (default: the packaged bank).

    Raises:
        ConfigError: If an id is not in the bank; the message lists the valid ids.
    """
    pool = list(load_themes() if themes is None else themes)
    if ids is None:
        return pool
    wanted = parse_list(ids)
    by_id = {theme.id: theme for theme in pool}
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise ConfigError(f"Unknown theme(s) {missing}: choose from {', '.join(by_id)}.")
    return [by_id[i] for i in wanted]


def _describe(error: Mapping[str, Any], raw: object, source: str) -> str:
    """One line for one validation error: file, theme and field."""
    loc = list(error["loc"])
    where = source
    if len(loc) >= 2 and loc[0] == "themes" and isinstance(loc[1], int):
        index = loc[1]
        theme_id = _raw_id(raw, index)
        where += f": theme #{index}" + (f" '{theme_id}'" if theme_id else "")
        loc = loc[2:]
    field = ".".join(str(part) for part in loc) or "(the theme itself)"
    message = " ".join(str(error["msg"]).split())
    return f"{where}, field '{field}': {message}"


def _raw_id(raw: object, index: int) -> str | None:
    if not isinstance(raw, dict):
        return None
    themes = raw.get("themes")
    if not isinstance(themes, list) or index >= len(themes) or not isinstance(themes[index], dict):
        return None
    theme_id = themes[index].get("id")
    return theme_id if isinstance(theme_id, str) else None
