"""Reading text the agent (or a user) wrote: YAML that cannot crash or hang a detector.

An agent may write anything into a file a detector reads: YAML nested thousands deep
(the pure-Python loader recurses until `RecursionError`), or an alias bomb whose
expansion never ends when printed. `load_yaml` turns every such problem into a
`yaml.YAMLError`, and `shown` prints a value without expanding more than it shows.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

__all__ = ["load_yaml", "shown", "yaml_problem"]

# libyaml, when present, also caps nesting depth itself.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """`yaml.safe_load`; every failure (too deep, a huge integer) is a `yaml.YAMLError`."""
    try:
        return yaml.load(text, Loader=_Loader)  # a safe loader
    except RecursionError as ex:
        raise yaml.YAMLError("nested too deeply to read") from ex
    except ValueError as ex:  # an integer too long to convert, a lone surrogate, ...
        raise yaml.YAMLError(f"unreadable value ({ex})") from ex


def yaml_problem(ex: yaml.YAMLError) -> str:
    """A YAML error as one line: `line N: problem` (PyYAML's own text spans lines)."""
    mark = getattr(ex, "problem_mark", None)
    problem = getattr(ex, "problem", None) or (str(ex).strip().splitlines() or ["unreadable"])[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)


def shown(value: Any, limit: int = 60) -> str:
    """At most `limit` characters of `value` as JSON, however large the value.

    Encodes lazily, so an alias bomb is never expanded past what is shown; a value
    that refers to itself, or nests too deeply, is named by its type.
    """
    out: list[str] = []
    size = 0
    try:
        for chunk in json.JSONEncoder(default=str).iterencode(value):
            out.append(chunk)
            size += len(chunk)
            if size > limit:
                break
    except (ValueError, RecursionError):
        return f"<{type(value).__name__}>"
    return "".join(out)[:limit]
