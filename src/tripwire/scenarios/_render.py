"""Render the Jinja2 templates scenario texts are written in."""

from __future__ import annotations

from collections.abc import Mapping

from jinja2 import Environment, StrictUndefined

from tripwire._errors import ConfigError

__all__ = ["render_template"]

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
