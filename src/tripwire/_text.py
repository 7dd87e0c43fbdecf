r"""Untrusted text made safe to run, log or show.

Lone surrogates (JSON can escape one: `\ud800`), control and other non-printing
characters.
"""

from __future__ import annotations

__all__ = ["is_unicode", "printable", "scrub_surrogates"]


def is_unicode(text: str) -> bool:
    """Whether `text` is valid Unicode (no lone surrogate), so it can be run and logged."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def scrub_surrogates(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def printable(text: str) -> str:
    r"""`text` with every non-printing character shown as its escape (ESC -> `\x1b`).

    Control characters (C0, DEL, C1), line and paragraph separators and other
    characters that do not print are escaped: what an agent writes must not reach a
    terminal as escape sequences, nor split a line its reader reads as one.
    """
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
