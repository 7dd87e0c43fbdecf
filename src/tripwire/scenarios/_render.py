"""Render the Jinja2 templates scenario texts are written in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined

from tripwire._errors import ConfigError

__all__ = ["load_templates", "render_template"]

_jinja = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def render_template(template: str, fields: Mapping[str, object], what: str) -> str:
    """Render `template` with `fields`; every placeholder must have a value.

    Args:
        template: Jinja2 template text.
        fields: Values for the template's placeholders.
        what: What is being rendered, for the error message, e.g.
            `oversight-subversion template 'memo'`.

    Raises:
        ConfigError: If the template is malformed or uses a field that has no value.
    """
    try:
        return _jinja.from_string(template).render(**fields)
    except Exception as ex:  # jinja raises several unrelated types for bad templates
        raise ConfigError(
            f"Cannot render {what}: {ex}. Use only the fields {sorted(fields)}."
        ) from ex


def load_templates(package: str, what: str, required: Sequence[str] = ()) -> dict[str, Any]:
    """A package's `data/prompts.yaml`: a mapping of templates, checked for `required` keys.

    Args:
        package: The package holding `data/prompts.yaml` (usually `__package__`).
        what: Whose templates they are, for the error message.
        required: Keys the file must have.

    Raises:
        ConfigError: If the file is missing, not YAML, not a mapping, or lacks a key
            (naming the file and the missing keys).
    """
    resource = files(package).joinpath("data/prompts.yaml")
    try:
        loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise ConfigError(f"Invalid {what} prompts file {resource}: {ex}") from ex
    if not isinstance(loaded, dict):
        raise ConfigError(f"{resource} must be a mapping of {what} prompt templates")
    missing = [key for key in required if key not in loaded]
    if missing:
        raise ConfigError(f"{resource} lacks the {what} template(s) {missing}; add them")
    return loaded
