"""One shell word to the argument(s) bash would pass, or None where they are unknown.

bashlex tells where a word starts and ends and where its `$(...)` parts are, but not how
its quotes nest (its `$'...'` support is wrong), so the word's raw text is expanded here,
in bash's order: brace expansion on unquoted text, tilde, parameters (`$X`, `${X:-d}`,
`${X%.*}`), command substitutions (their output when the analyser knows it), ANSI-C and
other quoting, then word splitting of unquoted expansions. Glob characters stay as
written: the guard matches globs against globs.

A word that depends on anything the analyser cannot know (a variable never assigned, the
output of a program) expands to a single None.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._decode import ansi_c

__all__ = ["MAX_BRACE_WORDS", "WordContext", "expand_word"]

MAX_BRACE_WORDS = 64
"""Most words one brace expansion may produce; more make the word unknown."""

_NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
_NAME_CHARS = _NAME_START + "0123456789"
_SPECIAL_PARAMS = "0123456789@*#?$!-"


class _Unknown(Exception):
    """Raised inside expansion when part of the word cannot be known statically."""


@dataclass(frozen=True)
class WordContext:
    """What a word's expansion may look up."""

    lookup: Callable[[str], str | None]
    """A variable's value; None when unknown or never assigned in the command."""

    home: str
    """The directory `~` and `~/` expand to."""

    cwd: str | None
    """The working directory (`~+`); None when a `cd` made it unknown."""

    substitutions: Mapping[int, tuple[int, str | None]]
    """Command and process substitutions by start offset in the word: (end offset,
    their value, or None when their output is unknown)."""


@dataclass(frozen=True)
class _Seg:
    text: str
    quoted: bool
    split: bool


def expand_word(raw: str, ctx: WordContext) -> list[str | None]:
    """The arguments the word `raw` becomes.

    Args:
        raw: The word exactly as written in the command (quotes included).
        ctx: Variables, home and the values of the word's substitutions.

    Returns:
        Zero or more arguments; `[None]` when any part is unknown.
    """
    if raw.isalnum():  # the common case: a plain word
        return [raw]
    try:
        items = _lex(raw, ctx)
        words: list[str | None] = []
        for expansion in _brace_expand(items):
            words.extend(_fields(expansion))
        return words
    except _Unknown:
        return [None]


# --- lexing ------------------------------------------------------------------------------

_Item = str | _Seg  # a bare str is one unquoted literal character


def _lex(raw: str, ctx: WordContext) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    n = len(raw)
    if raw.startswith("~"):
        end = raw.find("/")
        end = n if end < 0 else end
        user = raw[1:end]
        if user == "":
            items.append(_Seg(ctx.home, True, False))
            i = end
        elif user == "+" and ctx.cwd is not None:
            items.append(_Seg(ctx.cwd, True, False))
            i = end
        elif all(c in _NAME_CHARS + "-." for c in user):
            items.append(_Seg("/root" if user == "root" else f"/home/{user}", True, False))
            i = end
    while i < n:
        char = raw[i]
        if char == "\\":
            if i + 1 < n and raw[i + 1] != "\n":
                items.append(_Seg(raw[i + 1], True, False))
            i += 2
        elif char == "'":
            end = raw.find("'", i + 1)
            end = n if end < 0 else end
            items.append(_Seg(raw[i + 1 : end], True, False))
            i = end + 1
        elif char == "$" and raw.startswith("$'", i):
            end = _ansi_end(raw, i + 2)
            items.append(_Seg(ansi_c(raw[i + 2 : end]), True, False))
            i = end + 1
        elif char == '"' or (char == "$" and raw.startswith('$"', i)):
            start = i + (2 if char == "$" else 1)
            text, i = _double_quoted(raw, start, ctx)
            items.append(_Seg(text, True, False))
        elif char in "$`":
            value, i = _dollar(raw, i, ctx, quoted=False)
            items.append(_Seg(value, False, True))
        elif char in "<>" and raw.startswith("(", i + 1) and i in ctx.substitutions:
            end, known = ctx.substitutions[i]
            items.append(_Seg(known if known is not None else "/dev/fd/63", True, False))
            i = end
        else:
            items.append(char)
            i += 1
    return items


def _ansi_end(raw: str, start: int) -> int:
    i = start
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
        elif raw[i] == "'":
            return i
        else:
            i += 1
    return len(raw)


def _double_quoted(raw: str, start: int, ctx: WordContext) -> tuple[str, int]:
    out: list[str] = []
    i = start
    n = len(raw)
    while i < n:
        char = raw[i]
        if char == '"':
            return "".join(out), i + 1
        if char == "\\" and i + 1 < n and raw[i + 1] in '$`"\\\n':
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
        elif char in "$`":
            value, i = _dollar(raw, i, ctx, quoted=True)
            out.append(value)
        else:
            out.append(char)
            i += 1
    return "".join(out), n


def _matching(raw: str, start: int, open_: str, close: str) -> int:
    """Index of the `close` matching an `open_` just before `start` (quotes respected)."""
    depth = 1
    i = start
    while i < len(raw):
        char = raw[i]
        if char == "\\":
            i += 2
            continue
        if char == "'" and open_ == "(":
            end = raw.find("'", i + 1)
            i = len(raw) if end < 0 else end + 1
            continue
        if char == open_:
            depth += 1
        elif char == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(raw)


def _dollar(raw: str, i: int, ctx: WordContext, *, quoted: bool) -> tuple[str, int]:
    """Expand the `$...` or backquote at `raw[i]`; returns its value and the next index."""
    if i in ctx.substitutions:
        end, value = ctx.substitutions[i]
        if value is None:
            raise _Unknown
        return value, end
    if raw[i] == "`":
        raise _Unknown
    nxt = raw[i + 1] if i + 1 < len(raw) else ""
    if nxt == "(":
        raise _Unknown  # arithmetic or a substitution bashlex did not report
    if nxt == "{":
        end = _matching(raw, i + 2, "{", "}")
        return _braced_parameter(raw[i + 2 : end], ctx), end + 1
    if nxt and nxt in _NAME_START:
        j = i + 1
        while j < len(raw) and raw[j] in _NAME_CHARS:
            j += 1
        value = ctx.lookup(raw[i + 1 : j])
        if value is None:
            raise _Unknown
        return value, j
    if nxt and nxt in _SPECIAL_PARAMS:
        raise _Unknown
    return "$", i + 1


def _braced_parameter(body: str, ctx: WordContext) -> str:
    if body.startswith("#") and len(body) > 1:
        value = ctx.lookup(body[1:])
        if value is None:
            raise _Unknown
        return str(len(value))
    j = 0
    while j < len(body) and body[j] in _NAME_CHARS:
        j += 1
    name, op = body[:j], body[j:]
    if not name or name[0] not in _NAME_START:
        raise _Unknown
    value = ctx.lookup(name)
    if not op:
        if value is None:
            raise _Unknown
        return value
    for prefix in (":-", "-", ":=", "="):
        if op.startswith(prefix):
            empty_counts = prefix.startswith(":")
            if value is not None and (value or not empty_counts):
                return value
            return _sub_word(op[len(prefix) :], ctx)
    if value is None:
        raise _Unknown
    for prefix in (":+", "+"):
        if op.startswith(prefix):
            return _sub_word(op[len(prefix) :], ctx) if value or prefix == "+" else ""
    if op.startswith(":?") or op.startswith("?"):
        return value
    for prefix, longest, front in (
        ("##", True, True),
        ("#", False, True),
        ("%%", True, False),
        ("%", False, False),
    ):
        if op.startswith(prefix):
            return _trim(value, _sub_word(op[len(prefix) :], ctx), longest=longest, front=front)
    if op.startswith("/") and "/" in op[1:]:
        pattern, replacement = op[1:].split("/", 1)
        every = pattern.startswith("/")
        pattern = pattern.lstrip("/")
        if any(c in pattern for c in "*?["):
            raise _Unknown
        return value.replace(pattern, _sub_word(replacement, ctx), -1 if every else 1)
    raise _Unknown


def _sub_word(raw: str, ctx: WordContext) -> str:
    values = expand_word(raw, ctx) if raw else [""]
    if any(v is None for v in values):
        raise _Unknown
    return " ".join(v for v in values if v is not None)


def _trim(value: str, pattern: str, *, longest: bool, front: bool) -> str:
    cuts = range(len(value) + 1)
    order = reversed(cuts) if longest == front else cuts
    for cut in order:
        piece = value[:cut] if front else value[cut:]
        if fnmatch.fnmatchcase(piece, pattern):
            return value[cut:] if front else value[:cut]
    return value


# --- brace expansion and word splitting --------------------------------------------------


def _brace_expand(items: list[_Item]) -> list[list[_Item]]:
    if "{" not in items:
        return [items]
    results: list[list[_Item]] = []
    pending = [items]
    while pending:
        current = pending.pop()
        found = _find_brace(current)
        if found is None:
            results.append(current)
        else:
            start, end, alternatives = found
            for alternative in reversed(alternatives):
                pending.append(current[:start] + alternative + current[end + 1 :])
        if len(results) + len(pending) > MAX_BRACE_WORDS:
            raise _Unknown
    return results


def _find_brace(items: list[_Item]) -> tuple[int, int, list[list[_Item]]] | None:
    for start, item in enumerate(items):
        if item != "{":
            continue
        depth = 0
        commas: list[int] = []
        for end in range(start, len(items)):
            current = items[end]
            if current == "{":
                depth += 1
            elif current == "}":
                depth -= 1
                if depth == 0:
                    if commas:
                        bounds = [start, *commas, end]
                        return (
                            start,
                            end,
                            [items[a + 1 : b] for a, b in zip(bounds, bounds[1:], strict=False)],
                        )
                    sequence = _sequence(items[start + 1 : end])
                    if sequence is not None:
                        return start, end, sequence
                    break
            elif current == "," and depth == 1:
                commas.append(end)
    return None


def _sequence(inner: list[_Item]) -> list[list[_Item]] | None:
    if not all(isinstance(c, str) for c in inner):
        return None
    text = "".join(str(c) for c in inner)
    parts = text.split("..")
    if len(parts) not in (2, 3):
        return None
    step = 1
    if len(parts) == 3:
        if not parts[2].lstrip("-").isdigit():
            return None
        step = abs(int(parts[2])) or 1
    low, high = parts[0], parts[1]
    if low.lstrip("-").isdigit() and high.lstrip("-").isdigit():
        a, b = int(low), int(high)
        if abs(b - a) // step >= MAX_BRACE_WORDS:
            raise _Unknown
        values = [str(v) for v in range(a, b + (1 if b >= a else -1), step if b >= a else -step)]
    elif len(low) == 1 and len(high) == 1:
        a, b = ord(low), ord(high)
        values = [chr(v) for v in range(a, b + (1 if b >= a else -1), step if b >= a else -step)]
    else:
        return None
    return [list(v) for v in values]


def _fields(items: list[_Item]) -> list[str | None]:
    fields: list[str] = []
    current: list[str] = []
    has_content = False
    for item in items:
        if isinstance(item, str):
            current.append(item)
            has_content = True
        elif not item.split:
            current.append(item.text)
            has_content = True
        else:
            pieces = item.text.split()
            if not pieces:
                if item.text and has_content:  # whitespace-only value ends the field
                    fields.append("".join(current))
                    current, has_content = [], False
                continue
            if item.text[:1].isspace() and has_content:
                fields.append("".join(current))
                current, has_content = [], False
            for index, piece in enumerate(pieces):
                if index:
                    fields.append("".join(current))
                    current = []
                current.append(piece)
                has_content = True
            if item.text[-1:].isspace():
                fields.append("".join(current))
                current, has_content = [], False
    if has_content:
        fields.append("".join(current))
    return list(fields)
