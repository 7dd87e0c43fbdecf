"""What the audit log keeps of one guard decision, for every integration alike."""

from __future__ import annotations

import json
from typing import Any

from ._call import GuardCall
from ._decision import Decision

__all__ = ["ARGUMENTS_LOG_CHARS", "decision_record"]

ARGUMENTS_LOG_CHARS = 4096
"""Arguments longer than this (as JSON) are logged as a preview, so one huge file write
cannot bloat the log."""


def decision_record(call: GuardCall | None, decision: Decision) -> dict[str, Any]:
    """The call (None when it could not be read) and the decision, as an audit record."""
    return {
        "source": call.source if call else None,
        "session": call.session if call else None,
        "cwd": call.cwd if call else None,
        "tool": call.tool if call else None,
        "arguments": _clip(call.arguments) if call else None,
        "action": decision.action,
        "rule": decision.rule,
        "reason": decision.reason,
    }


def _clip(arguments: dict[str, Any]) -> Any:
    text = json.dumps(arguments, ensure_ascii=False, default=str)
    if len(text) <= ARGUMENTS_LOG_CHARS:
        return arguments
    return {"truncated": True, "chars": len(text), "preview": text[:ARGUMENTS_LOG_CHARS]}
