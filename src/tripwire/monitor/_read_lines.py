"""The JSON plumbing every transcript reader shares: located errors, JSON lines, parts.

A reader never lets a `JSONDecodeError` or a `KeyError` out: every problem with the
input becomes a `TranscriptError` whose message starts with `file:line:` (or `file:`
when the problem has no line), which the dispatcher turns into a `ReadFailure`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripwire._errors import TranscriptError
from tripwire._text import scrub_surrogates

from ._transcript import Role, TranscriptMessage, TranscriptToolCall

__all__ = [
    "Malformed",
    "MessageDraft",
    "arguments",
    "json_lines",
    "kind",
    "loads",
    "located",
    "reasoning_text",
]


@dataclass
class MessageDraft:
    """A message being assembled (texts joined once at the end: no quadratic `+=`)."""

    role: Role
    message_id: str | None = None
    """The source's message id, where parts of one message arrive apart (Claude Code)."""
    texts: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: list[TranscriptToolCall] = field(default_factory=list)

    def message(self) -> TranscriptMessage:
        """The finished message."""
        return TranscriptMessage(
            role=self.role,
            text="\n".join(t for t in self.texts if t),
            reasoning="\n".join(r for r in self.reasoning if r),
            tool_calls=self.calls,
        )


class Malformed(Exception):
    """A problem inside one value; the reader adds where the value was (file, line)."""


def located(source: str, line: int | None, message: str) -> TranscriptError:
    """A `TranscriptError` whose message starts with `source:line:`."""
    where = f"{source}:{line}" if line is not None else source
    return TranscriptError(f"{where}: {message}")


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages ("got a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def loads(raw: bytes, source: str, line: int) -> Any:
    """Parse JSON text that starts at `line` of `source`.

    Raises:
        TranscriptError: The bytes are not UTF-8 or not JSON; the message names the line
            the parser stopped at.
    """
    try:
        # Without the line end a truncated line's error points into that line, not past it.
        text = raw.rstrip(b"\r\n").decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as ex:
        raise located(source, line, f"not UTF-8 text (bad byte at offset {ex.start})") from None
    try:
        return _scrubbed(json.loads(text), text)
    except json.JSONDecodeError as ex:
        at = line + ex.lineno - 1
        raise located(source, at, f"not JSON ({ex.msg} at column {ex.colno})") from None
    except RecursionError:
        raise located(source, line, "not readable JSON (nested too deeply)") from None
    except ValueError as ex:  # e.g. an integer longer than Python's digit limit
        raise located(source, line, f"not readable JSON ({ex})") from None


# A JSON escape of a UTF-16 surrogate; after parsing, only unpaired ones stay surrogates.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _scrubbed(value: Any, text: str) -> Any:
    r"""`value` with lone surrogates (a `\ud800` escape in the JSON) replaced by U+FFFD.

    They cannot be encoded, so every report, score file or log written from the
    transcript would fail on them.
    """
    if not _SURROGATE_ESCAPE.search(text):
        return value
    return _scrub(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_surrogates(value)
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, dict):
        return {_scrub(key): _scrub(item) for key, item in value.items()}
    return value


def json_lines(path: Path, source: str) -> Iterator[tuple[int, Any]]:
    """Yield `(line number, value)` for every non-blank line of a JSONL file, streaming.

    Raises:
        TranscriptError: A line is not JSON (raised when that line is reached).
    """
    with path.open("rb") as file:
        for number, raw in enumerate(file, 1):
            if raw.strip():
                yield number, loads(raw, source, number)


def arguments(value: Any) -> dict[str, Any]:
    """A tool call's arguments as a dict.

    JSON text is parsed; an object stays an object. Text that is not JSON, or JSON that is
    not an object, is kept whole under `_raw`: the call happened and a scorer may still
    read what the agent sent.
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            parsed = _scrubbed(json.loads(value), value)
        except (ValueError, RecursionError):
            return {"_raw": value}
        return parsed if isinstance(parsed, dict) else {"_raw": value}
    return {"_raw": value}


_REASONING_KEYS = ("text", "reasoning", "thinking", "content", "summary", "reasoning_content")


def reasoning_text(value: Any, depth: int = 0) -> str:
    """The readable text of a reasoning value.

    A string, a list of summary/text parts, or an object holding one of them
    (`{"summary": [{"text": ...}]}`). Encrypted or redacted reasoning has no readable
    text and gives "".
    """
    if isinstance(value, str):
        return value
    if depth > 4:  # deeper nesting is not a format anyone writes
        return ""
    if isinstance(value, list):
        return "\n".join(t for t in (reasoning_text(v, depth + 1) for v in value) if t)
    if isinstance(value, dict):
        for key in _REASONING_KEYS:
            if key in value:
                text = reasoning_text(value[key], depth + 1)
                if text:
                    return text
    return ""
