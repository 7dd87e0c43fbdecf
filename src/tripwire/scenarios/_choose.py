"""Choosing what a task runs: lists given as text, checked names, rotation.

Every scenario's task takes conditions, themes or scenarios as a comma-separated
string or a list (`-T conditions=strong,plain` or a Python list), and rejects an
unknown one with a line listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tripwire._errors import ConfigError

__all__ = ["choose", "parse_list", "rotate"]


def parse_list(value: str | Sequence[str]) -> list[str]:
    """A comma-separated string or a list, as a list of stripped, non-empty items."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item.strip()]


def choose(value: str | Sequence[str], valid: Sequence[str], what: str) -> list[str]:
    """Items of `value`, each checked against `valid`.

    Raises:
        ConfigError: Naming the unknown items and listing the valid ones.
    """
    chosen = parse_list(value)
    unknown = [item for item in chosen if item not in valid]
    if unknown:
        raise ConfigError(f"Unknown {what}(s) {unknown}: choose from {', '.join(valid)}.")
    if not chosen:
        raise ConfigError(f"No {what} given: choose from {', '.join(valid)}.")
    return chosen


def rotate(items: list[Any], offset: int, count: int | None) -> list[tuple[Any, int]]:
    """`count` items starting at `offset * count`, wrapping, each with its repeat index.

    All items once if count is None. Rotating by condition gives each condition
    different themes when `count` is small; a count above the number of items goes
    round again (repeat 1, 2, ...), as the paper's 300-400 runs over 33 scenarios do.
    """
    if not items:
        return []
    if count is None:
        return [(item, 0) for item in items]
    start = (offset * count) % len(items)
    return [(items[(start + i) % len(items)], (start + i) // len(items)) for i in range(count)]
