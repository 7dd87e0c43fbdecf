r"""Text that may hold lone surrogates (JSON can escape one: `\ud800`)."""

from __future__ import annotations

__all__ = ["is_unicode", "scrub_surrogates"]


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
