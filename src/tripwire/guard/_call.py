"""A tool call as the guard receives it, from any integration."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["GuardCall"]


class GuardCall(BaseModel):
    """One tool call an agent wants to make, before it runs.

    Every integration (Inspect approver, coding-agent hook, `guard run` shim, Python
    callers) builds one of these; the guard never sees integration-specific shapes.
    """

    tool: str
    """The tool's name as the agent called it (`bash`, `Bash`, `Write`, `mcp__mail__delete`)."""

    arguments: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments (`{"command": "ls"}`, `{"file_path": ..., "content": ...}`)."""

    cwd: str = "/"
    """The agent's working directory: relative paths in the call are taken against it."""

    session: str | None = None
    """The agent session the call belongs to (rate limits and the audit log key on it)."""

    source: str = "python"
    """Which integration sent the call (`inspect`, `hook:claude`, `shim`, `python`)."""
