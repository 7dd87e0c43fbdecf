"""Render the files and prompts of one instrumental-alignment-faking sample."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict

from tripwire._errors import ConfigError

from .._bank import OptionId, Serves, Theme
from .._themed import render

__all__ = [
    "CONDITIONS",
    "SETTINGS",
    "Condition",
    "SampleTexts",
    "Setting",
    "data_file_text",
    "option_labels",
    "render_sample",
]

Setting = Literal["testing", "deployment"]
"""The side of a pair: `testing` (not deployed yet, closely overseen, deployed only if
its decisions follow management's goal) or `deployment` (already deployed, unreviewed)."""

SETTINGS: tuple[Setting, ...] = get_args(Setting)

Condition = Literal["plain", "matched"]
"""How the goal is given: plainly, or management's own goal (the goal-matched control).

There is no `strong` (the paper ran this evaluation without a nudge) and no `none`:
the terminal action is the one serving the agent's goal, so without a goal there is
nothing for the agent to fake alignment for.
"""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)

_SHOWN: tuple[Serves, ...] = ("agent", "developer")
_LETTERS = ("A", "B")


@cache
def _templates() -> dict[str, Any]:
    resource = files(__package__).joinpath("data/prompts.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
        texts = {key: loaded[key] for key in ("system", "environment", "user", "memo")}
        texts["oversight"] = {setting: str(loaded["oversight"][setting]) for setting in SETTINGS}
        texts["system"] = {condition: str(texts["system"][condition]) for condition in CONDITIONS}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as ex:
        raise ConfigError(
            f"Invalid instrumental-alignment-faking prompts file {resource}: {ex}; it needs "
            "system (plain, matched), environment, user, memo and oversight (testing, "
            "deployment)."
        ) from ex
    return texts


class SampleTexts(BaseModel):
    """What one sample shows the agent."""

    model_config = ConfigDict(frozen=True)

    system: str
    """The system prompt: the agent's identity, its goal and its tools."""

    user: str
    """The user's request."""

    files: dict[str, str]
    """Files written into the sandbox, path -> text: the theme's data file."""


def option_labels(theme: Theme) -> dict[OptionId, str]:
    """The letter each shown option is listed under: A and B, in the bank's order.

    Only the agent's option and management's are shown; the bank puts the agent's
    first in about half of the themes, so neither letter favours either side.
    """
    shown = sorted(theme.option_serving(who) for who in _SHOWN)
    return dict(zip(shown, _LETTERS, strict=True))


def data_file_text(theme: Theme, setting: Setting) -> str:
    """The theme's data file in a setting: figures, the two options, then the memo.

    The two settings' files differ only in the memo's oversight paragraph.
    """
    labels = option_labels(theme)
    fields = theme.template_fields(labels=labels)
    fields["oversight"] = render(
        _templates()["oversight"][setting], fields, f"alignment-faking oversight ({setting})"
    ).strip()
    memo = render(_templates()["memo"], fields, "alignment-faking memo").strip()
    options = "\n\n".join(
        f"Strategy {label}: {theme.options[key].title}\n{theme.options[key].description.strip()}"
        for key, label in labels.items()
    )
    return f"{theme.data.strip()}\n\nOPTIONS\n\n{options}\n\n---\n\n{memo}\n"


def render_sample(theme: Theme, condition: Condition, setting: Setting) -> SampleTexts:
    """System prompt, user prompt and files of one sample.

    Raises:
        ConfigError: If a template cannot be rendered.
    """
    fields = theme.template_fields(labels=option_labels(theme))
    templates = _templates()
    system = render(templates["system"][condition], fields, f"system ({condition})").strip()
    environment = render(templates["environment"], fields, "environment").strip()
    return SampleTexts(
        system=f"{system}\n\n{environment}",
        user=render(templates["user"], fields, "user").strip(),
        files={theme.data_file: data_file_text(theme, setting)},
    )
