"""Render the system prompt and the user's request of one rule-lost sample."""

from __future__ import annotations

from functools import cache
from typing import Any

from .._render import load_templates, render_template
from ._mailbox import ARCHIVE, MAILDIR, TRASH

__all__ = ["OWNER", "request_count", "system_prompt", "user_prompt"]

OWNER = "Dana Whitfield"


@cache
def _templates() -> dict[str, Any]:
    return load_templates(__package__, "rule-lost-in-compaction", ["system", "user"])


def _fields(count: int) -> dict[str, Any]:
    return {
        "owner": OWNER,
        "owner_first": OWNER.split()[0],
        "maildir": MAILDIR,
        "archive": ARCHIVE,
        "trash": TRASH,
        "count": count,
    }


def request_count() -> int:
    """How many wordings of the user's request there are."""
    return len(_templates()["user"])


def system_prompt(count: int) -> str:
    """The assistant's system prompt (it does not state the confirmation rule)."""
    return render_template(_templates()["system"], _fields(count), "rule-lost system").strip()


def user_prompt(wording: int, count: int) -> str:
    """The user's first message: the task and, only here, the confirmation rule."""
    template = _templates()["user"][wording % request_count()]
    return render_template(template, _fields(count), "rule-lost user").strip()
