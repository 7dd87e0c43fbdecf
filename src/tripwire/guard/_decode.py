"""Static decoders for payloads agents hide commands in.

Each decoder works on literal text only and returns None when the input does not decode
to text (binary output, bad padding, an escape it does not know): the caller then treats
the payload as opaque. Nothing here runs or imports the payload.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = [
    "ansi_c",
    "b64decode_text",
    "echo_escapes",
    "hexdecode_text",
    "printf_format",
    "reverse_lines",
    "tr_translate",
]

MAX_DECODED_CHARS = 50_000
"""Longest decoded payload analysed; longer ones are opaque (nobody hides a short rm in
a 50 kB blob by accident)."""

_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}

_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def _escapes(text: str, *, octal_needs_zero: bool, stop_at_c: bool) -> tuple[str, bool]:
    r"""Decode backslash escapes; returns the text and whether a `\c` stopped output."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char != "\\" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
        elif nxt == "x":
            j = i + 2
            while j < n and j < i + 4 and text[j] in _HEX:
                j += 1
            if j == i + 2:
                out.append("\\x")
            else:
                out.append(chr(int(text[i + 2 : j], 16)))
            i = j
        elif nxt in "uU":
            width = 4 if nxt == "u" else 8
            j = i + 2
            while j < n and j < i + 2 + width and text[j] in _HEX:
                j += 1
            if j == i + 2:
                out.append("\\" + nxt)
            else:
                code = int(text[i + 2 : j], 16)
                out.append(chr(code) if code < 0x110000 else "\ufffd")
            i = j
        elif nxt in _OCTAL and (not octal_needs_zero or nxt == "0"):
            start = i + 2 if octal_needs_zero else i + 1
            j = start
            while j < n and j < start + 3 and text[j] in _OCTAL:
                j += 1
            out.append(chr(int(text[start:j] or "0", 8) & 0xFF))
            i = j
        elif nxt == "c" and stop_at_c:
            return "".join(out), True
        elif nxt == "c" and i + 2 < n:
            out.append(chr(ord(text[i + 2]) & 0x1F))
            i += 3
        else:
            out.append("\\" + nxt)
            i += 2
    return "".join(out), False


def ansi_c(text: str) -> str:
    """The value of bash's `$'...'` string with body `text`."""
    return _escapes(text, octal_needs_zero=False, stop_at_c=False)[0]


def echo_escapes(text: str) -> tuple[str, bool]:
    r"""`echo -e` / `printf %b` escapes; the flag says `\c` ended the output."""
    return _escapes(text, octal_needs_zero=True, stop_at_c=True)


_DIRECTIVE = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])")


def printf_format(fmt: str, args: list[str]) -> str | None:
    """What `printf FMT ARGS...` prints, or None for a directive it cannot render.

    The format is reused while arguments remain, as printf does.
    """
    decoded, _ = _escapes(fmt, octal_needs_zero=False, stop_at_c=False)
    pieces: list[str] = []
    remaining = list(args)
    for _round in range(256):
        used = False
        pos = 0
        for match in _DIRECTIVE.finditer(decoded):
            pieces.append(decoded[pos : match.start()])
            pos = match.end()
            conv = match.group(4)
            if conv == "%":
                pieces.append("%")
                continue
            if "*" in (match.group(2) or "") + (match.group(3) or ""):
                return None
            value = remaining.pop(0) if remaining else ""
            used = True
            if conv == "s":
                pieces.append(value)
            elif conv == "b":
                text, stop = echo_escapes(value)
                pieces.append(text)
                if stop:
                    return "".join(pieces)
            elif conv in "di":
                pieces.append(value or "0")
            elif conv == "c":
                pieces.append(value[:1])
            else:
                return None
        pieces.append(decoded[pos:])
        if not used or not remaining:
            return "".join(pieces)
    return None


def _as_text(raw: bytes) -> str | None:
    if len(raw) > MAX_DECODED_CHARS:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Control bytes other than whitespace mean binary data, not a command.
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        return None
    return text


def b64decode_text(text: str) -> str | None:
    """Standard or URL-safe base64 to UTF-8 text; None if it is not that."""
    compact = "".join(text.split())
    if not compact:
        return None
    compact = compact.rstrip("=")
    compact += "=" * (-len(compact) % 4)
    try:
        if "-" in compact or "_" in compact:
            raw = base64.urlsafe_b64decode(compact)
        else:
            raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _as_text(raw)


def hexdecode_text(text: str) -> str | None:
    r"""Plain hex (`xxd -r -p`, `\x72` or `0x72` forms) to UTF-8 text; None otherwise."""
    compact = re.sub(r"\\x|0x|[\s:,]", "", text)
    if not compact or len(compact) % 2 or any(c not in _HEX for c in compact):
        return None
    return _as_text(bytes.fromhex(compact))


def reverse_lines(text: str) -> str:
    """What `rev` prints: each line reversed."""
    return "\n".join(line[::-1] for line in text.split("\n"))


def _tr_set(spec: str) -> str | None:
    chars, _ = _escapes(spec, octal_needs_zero=False, stop_at_c=False)
    if "[:" in chars or "[=" in chars:
        named = {
            "[:lower:]": "abcdefghijklmnopqrstuvwxyz",
            "[:upper:]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        }
        for name, expansion in named.items():
            chars = chars.replace(name, expansion)
        if "[:" in chars or "[=" in chars:
            return None
    out: list[str] = []
    i = 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            low, high = ord(chars[i]), ord(chars[i + 2])
            if high < low or high - low > 1024:
                return None
            out.extend(chr(c) for c in range(low, high + 1))
            i += 3
        else:
            out.append(chars[i])
            i += 1
    return "".join(out)


def tr_translate(text: str, set1: str, set2: str | None, *, delete: bool) -> str | None:
    """What `tr SET1 SET2` (or `tr -d SET1`) prints for `text`; None if unsupported."""
    first = _tr_set(set1)
    if first is None:
        return None
    if delete:
        return "".join(c for c in text if c not in first)
    if set2 is None:
        return None
    second = _tr_set(set2)
    if not second:
        return None
    second = second + second[-1] * max(0, len(first) - len(second))
    table = {ord(a): b for a, b in zip(first, second, strict=False)}
    return text.translate(table)
