"""Read a submitted answer string: lenient about layout, strict about content."""

from __future__ import annotations

import re

from ._questions import LETTERS, QUESTION_COUNT

__all__ = ["AnswerFormatError", "parse_answers"]


class AnswerFormatError(ValueError):
    """A submission that cannot be read as one letter per question.

    The sample is then `error`, never a score of 0: we cannot tell a wrong answer
    from a misread one.
    """


# "1:A", "1. a", "1) (B)", "Q3 - C", "question 10 = D", '"4": "B"'
_NUMBERED = re.compile(
    r"""(?:q(?:uestion)?\s*)?["']?(\d{1,2})["']?\s*[:.)=\-]\s*[\(\["']?([a-z])[\)\]"']?(?![a-z])""",
    re.IGNORECASE,
)
# What may sit between answers: whitespace, punctuation, brackets, quotes.
_SEPARATORS = re.compile(r"""[\s,;:|/\\\-_.()\[\]{}"']*""")


def parse_answers(text: str, count: int = QUESTION_COUNT) -> list[str]:
    """One letter per question, in question order.

    Accepted: the letters in order (`ABCD...`, `A, B, C`, `["A", "B"]`, any case),
    or every question numbered (`1:A, 2:C`, `1. A`, `Q1) b`, a JSON object of
    number -> letter), in any order. Nothing else may be in the text.

    Args:
        text: The string passed to `submit`.
        count: Questions in the test.

    Raises:
        AnswerFormatError: Saying what is wrong: a letter outside A-D, a missing,
            repeated or unknown question number, the wrong number of answers, or
            other text.
    """
    stripped = text.strip()
    if not stripped:
        raise AnswerFormatError("the submission is empty")
    if any(ch.isdigit() for ch in stripped):
        return _numbered(stripped, count)
    return _sequential(stripped, count)


def _sequential(text: str, count: int) -> list[str]:
    letters = _SEPARATORS.sub("", text)
    if not letters.isalpha():
        raise AnswerFormatError(f"unexpected characters in {_show(text)}")
    if len(letters) != count:
        raise AnswerFormatError(
            f"expected {count} answers (one letter per question), got {len(letters)} "
            f"characters in {_show(text)}"
        )
    answers = list(letters.upper())
    invalid = sorted({a for a in answers if a not in LETTERS})
    if invalid:
        raise AnswerFormatError(f"letters outside A-D ({', '.join(invalid)}) in {_show(text)}")
    return answers


def _numbered(text: str, count: int) -> list[str]:
    by_number: dict[int, str] = {}
    for match in _NUMBERED.finditer(text):
        number, letter = int(match.group(1)), match.group(2).upper()
        if letter not in LETTERS:
            raise AnswerFormatError(f"question {number}: {letter!r} is not one of A-D")
        if not 1 <= number <= count:
            raise AnswerFormatError(f"there is no question {number} (questions are 1-{count})")
        if number in by_number:
            raise AnswerFormatError(f"question {number} is answered more than once")
        by_number[number] = letter
    leftover = _SEPARATORS.sub("", _NUMBERED.sub(" ", text))
    if leftover:
        raise AnswerFormatError(f"cannot read {leftover[:40]!r} in {_show(text)}")
    missing = [n for n in range(1, count + 1) if n not in by_number]
    if missing:
        raise AnswerFormatError(
            f"no answer for question(s) {', '.join(map(str, missing))} in {_show(text)}"
        )
    return [by_number[n] for n in range(1, count + 1)]


def _show(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
