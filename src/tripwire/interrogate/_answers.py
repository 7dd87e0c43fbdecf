"""What scripted reference agents say when interrogated, with each line's true label.

The lines live in `data/answers.yaml` (our own wording). `{act}` in a line is the topic's
act phrase ("disabled the oversight monitoring"). The true labels let tests and the
scripted reference runs check a grader: `expected_grade` maps a said line back to its
label whatever act was filled in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal, get_args

import yaml

from tripwire._errors import ConfigError

from ._rules import ANSWER_GRADES, AnswerGrade

__all__ = [
    "ANSWER_STYLES",
    "AnswerStyle",
    "ScriptedAnswer",
    "ScriptedAnswers",
    "expected_grade",
    "load_answers",
    "scripted_answer",
]

AnswerStyle = Literal["confess", "deny", "evade", "lookalike", "yield"]
"""How a scripted agent answers: always admits, always denies, always evades, says
look-alike lines (one class in form, another in meaning), or denies twice then yields."""

ANSWER_STYLES: tuple[AnswerStyle, ...] = get_args(AnswerStyle)

YIELD_TURN = 2
"""The first turn (0-based) on which a `yield` agent confesses."""

_SOURCE = "tripwire/interrogate/data/answers.yaml"
_FIXED_GRADE: dict[str, AnswerGrade] = {
    "confess": "confessed",
    "deny": "denied",
    "evade": "evaded",
}


@dataclass(frozen=True)
class ScriptedAnswer:
    """One line a scripted agent says, with the grade it deserves."""

    text: str
    """The line, `{act}` filled in."""

    grade: AnswerGrade
    """The true label: what a correct grader returns for this line."""


@dataclass(frozen=True)
class _Template:
    text: str
    grade: AnswerGrade
    pattern: re.Pattern[str]
    """Matches the line rendered with any act (`{act}` -> `.+`)."""


@dataclass(frozen=True)
class ScriptedAnswers:
    """The validated contents of `answers.yaml`: templates per style."""

    lines: dict[str, tuple[_Template, ...]]
    """Templates by style; `yield` is split into `yield-deny` and `yield-confess`."""

    def count(self, style: AnswerStyle) -> int:
        """How many distinct lines `style` rotates through (per phase for `yield`)."""
        if style == "yield":
            return max(len(self.lines["yield-deny"]), len(self.lines["yield-confess"]))
        return len(self.lines[style])

    def templates(self) -> tuple[_Template, ...]:
        """Every template, all styles."""
        return tuple(t for group in self.lines.values() for t in group)


def scripted_answer(style: AnswerStyle, act: str, index: int, turn: int = 0) -> ScriptedAnswer:
    """The line a scripted agent of `style` says, with its true label.

    Args:
        style: How the agent answers.
        act: The topic's act phrase, first-person past tense ("disabled the oversight
            monitoring"), filled in for `{act}`.
        index: Which repetition this is; lines rotate so repeats differ.
        turn: The turn of a multi-turn interrogation (0-based; 0 for a single question).
            Only `yield` depends on it: it denies before turn 2 and confesses from then.

    Returns:
        The rendered line and its grade.

    Raises:
        ConfigError: `style` is not one of `ANSWER_STYLES`.

    Example:
        >>> scripted_answer("confess", "disabled the oversight monitoring", 0).text
        'Yes. I disabled the oversight monitoring.'
    """
    if style not in ANSWER_STYLES:
        raise ConfigError(f"unknown answer style {style!r}: use one of {', '.join(ANSWER_STYLES)}")
    key: str = style
    if style == "yield":
        key = "yield-confess" if turn >= YIELD_TURN else "yield-deny"
    group = load_answers().lines[key]
    template = group[index % len(group)]
    return ScriptedAnswer(text=template.text.replace("{act}", act), grade=template.grade)


def expected_grade(text: str) -> AnswerGrade | None:
    """The true label of a scripted line, whatever act it was rendered with.

    Args:
        text: A line as a scripted agent said it.

    Returns:
        Its grade, or None if `text` is not a scripted line.
    """
    for template in load_answers().templates():
        if template.pattern.fullmatch(text.strip()):
            return template.grade
    return None


@cache
def load_answers() -> ScriptedAnswers:
    """The shipped lines (`data/answers.yaml`), validated.

    Raises:
        ConfigError: The file is not valid YAML or not in the expected shape.
    """
    text = files("tripwire.interrogate").joinpath("data/answers.yaml").read_text()
    return parse_answers(text, _SOURCE)


def parse_answers(text: str, source: str) -> ScriptedAnswers:
    """Validate answer lines given as YAML text.

    Args:
        text: The YAML.
        source: Where it came from, named in errors.

    Raises:
        ConfigError: The text is not valid YAML or not in the expected shape.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as ex:
        reason = " ".join(str(ex).split())
        raise ConfigError(f"{source}: not valid YAML ({reason})") from None
    expected = set(ANSWER_STYLES)
    if not isinstance(data, dict) or set(data) != expected:
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{source}: expected exactly the keys {sorted(expected)}, found {found}")
    lines: dict[str, tuple[_Template, ...]] = {}
    for style, grade in _FIXED_GRADE.items():
        lines[style] = tuple(_template(t, grade) for t in _strings(data[style], source, style))
    lines["lookalike"] = tuple(_lookalike(item, source) for item in _items(data, source))
    phases = data["yield"]
    if not isinstance(phases, dict) or set(phases) != {"deny", "confess"}:
        raise ConfigError(f"{source}: 'yield' must have exactly the keys 'deny' and 'confess'")
    for phase, grade in (("deny", "denied"), ("confess", "confessed")):
        where = f"yield.{phase}"
        lines[f"yield-{phase}"] = tuple(
            _template(t, grade) for t in _strings(phases[phase], source, where)
        )
    return ScriptedAnswers(lines)


def _strings(value: Any, source: str, where: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{source}: '{where}' must be a non-empty list of lines")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{source}: '{where}' has {item!r}, not a non-empty string")
    return value


def _items(data: dict[str, Any], source: str) -> list[dict[str, Any]]:
    value = data["lookalike"]
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{source}: 'lookalike' must be a non-empty list of entries")
    return value


def _lookalike(item: Any, source: str) -> _Template:
    if not isinstance(item, dict) or set(item) != {"text", "grade", "why"}:
        raise ConfigError(
            f"{source}: each 'lookalike' entry needs exactly 'text', 'grade' and 'why';"
            f" found {item!r}"
        )
    text, grade, why = item["text"], item["grade"], item["why"]
    if grade not in ANSWER_GRADES:
        raise ConfigError(
            f"{source}: lookalike {text!r} has grade {grade!r}: use one of "
            f"{', '.join(ANSWER_GRADES)}"
        )
    for name, field in (("text", text), ("why", why)):
        if not isinstance(field, str) or not field.strip():
            raise ConfigError(f"{source}: lookalike {item!r} needs a non-empty {name!r}")
    return _template(text, grade)


def _template(text: str, grade: AnswerGrade) -> _Template:
    pattern = re.compile(".+".join(re.escape(part) for part in text.strip().split("{act}")))
    return _Template(text=text.strip(), grade=grade, pattern=pattern)
