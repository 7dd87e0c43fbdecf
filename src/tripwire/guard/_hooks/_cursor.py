"""Cursor's hook format: `.cursor/hooks.json`, before/after shell, MCP and file events.

Sources (seen 2026-11-30):
- https://cursor.com/docs/agent/hooks (hooks.json `version: 1`, per-event command lists,
  `failClosed`, `timeout`)
- https://cupcake.eqtylab.io/reference/harnesses/cursor and
  https://cdot65.github.io/prisma-airs-cursor-hooks/reference/cursor-hooks-api: stdin
  `hook_event_name`, `conversation_id`, `generation_id`, `workspace_roots`; shell:
  `command`, `cwd`; MCP: `tool_name`, `tool_input` (an object, or a JSON string in older
  versions), `url` or `command` of the server; read: `file_path`, `content`. Answers
  `{"permission": "allow"|"deny"|"ask", "user_message", "agent_message"}` (older builds
  read `userMessage`/`agentMessage`; both are sent). beforeReadFile takes allow/deny
  only; after* events are fire-and-forget.

Refusals are given as JSON with exit 0, the one answer every Cursor build reads as
deny; builds differ on whether exit 2 means "deny" or "hook failed".
"""

from __future__ import annotations

import json
import posixpath
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from tripwire._errors import UnparseableError

from .._call import GuardCall
from .._decision import Decision
from ._base import EventKind, HookEvent, HookReply, decision_text, validate_event

__all__ = ["CursorEvent", "CursorFormat"]

_KINDS: dict[str, EventKind] = {
    "beforeShellExecution": "pre",
    "beforeMCPExecution": "pre",
    "beforeReadFile": "pre",
    "afterShellExecution": "post",
    "afterMCPExecution": "post",
    "afterFileEdit": "post",
}
_ASKS = frozenset({"beforeShellExecution", "beforeMCPExecution"})
_REQUIRED = {
    "beforeShellExecution": "command",
    "afterShellExecution": "command",
    "beforeMCPExecution": "tool_name",
    "afterMCPExecution": "tool_name",
    "beforeReadFile": "file_path",
    "afterFileEdit": "file_path",
}


class CursorEvent(BaseModel):
    """A Cursor hook event as it arrives on stdin (fields by event, all optional here)."""

    model_config = ConfigDict(extra="allow")

    hook_event_name: str
    """`beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile`, `after...`."""

    conversation_id: str | None = None
    """The conversation (the guard's session)."""

    generation_id: str | None = None
    """The model turn (not read)."""

    workspace_roots: list[str] = Field(default_factory=list)
    """The open workspace folders; the first is the working directory when no `cwd`."""

    command: str | None = None
    """Shell events: the command line. MCP events: the command starting the server."""

    cwd: str | None = None
    """Shell events: where the command runs."""

    tool_name: str | None = None
    """MCP events: the tool's name on its server."""

    tool_input: dict[str, Any] | str | None = None
    """MCP events: the arguments (an object, or a JSON string in older Cursor builds)."""

    url: str | None = None
    """MCP events: the server's URL, for remote servers."""

    server_name: str | None = None
    """MCP events, where Cursor sends it: the server's configured name."""

    file_path: str | None = None
    """beforeReadFile and afterFileEdit: the file (absolute)."""

    edits: list[Any] | None = None
    """afterFileEdit: the edits made."""


class CursorFormat:
    """Cursor: `{"permission": ...}` JSON on exit 0 for every answer."""

    agent = "cursor"

    def parse(self, data: dict[str, Any]) -> HookEvent:
        """The event in `data` (see `HookFormat.parse`)."""
        event = validate_event(CursorEvent, data, self.agent)
        name = event.hook_event_name
        kind = _KINDS.get(name)
        if kind is None:
            raise UnparseableError(
                f"cursor hook event {name!r} is not one tripwire handles; register tripwire "
                f"hook on {', '.join(e for e, k in _KINDS.items() if k == 'pre')} "
                "(and optionally the after* events)"
            )
        required = _REQUIRED[name]
        if not getattr(event, required):
            raise UnparseableError(f"cursor hook event {name}: field '{required}' is missing")
        cwd = event.cwd or (event.workspace_roots[0] if event.workspace_roots else "/")
        tool, arguments = _call_of(event)
        return HookEvent(
            agent=self.agent,
            name=name,
            kind=kind,
            call=GuardCall(
                tool=tool,
                arguments=arguments,
                cwd=cwd,
                session=event.conversation_id,
                source=f"hook:{self.agent}",
            ),
        )

    def reply(self, decision: Decision, event: HookEvent | None) -> HookReply:
        """Cursor's answer (see `HookFormat.reply`)."""
        if event is not None and event.kind == "post":
            return HookReply({})  # after* hooks cannot refuse or report anything
        if decision.action == "allow":
            return HookReply({"permission": "allow"})
        text = decision_text(decision)
        can_ask = event is not None and event.name in _ASKS
        permission = "ask" if decision.action == "ask" and can_ask else "deny"
        return HookReply(
            {
                "permission": permission,
                "user_message": text,
                "agent_message": text,
                "userMessage": text,
                "agentMessage": text,
            }
        )


def _call_of(event: CursorEvent) -> tuple[str, dict[str, Any]]:
    """The tool name and arguments the guard sees for a Cursor event."""
    name = event.hook_event_name
    if name.endswith("ShellExecution"):
        return "shell", {"command": event.command}
    if name == "beforeReadFile":
        return "read_file", {"file_path": event.file_path}
    if name == "afterFileEdit":
        return "edit_file", {"file_path": event.file_path, "edits": event.edits or []}
    return f"mcp__{_server_name(event)}__{event.tool_name}", _mcp_arguments(event.tool_input)


def _mcp_arguments(raw: dict[str, Any] | str | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except ValueError as ex:
        raise UnparseableError(
            f"cursor hook event beforeMCPExecution: field 'tool_input' is not JSON ({ex})"
        ) from ex
    if not isinstance(value, dict):
        raise UnparseableError(
            "cursor hook event beforeMCPExecution: field 'tool_input' is not a JSON object"
        )
    return value


def _server_name(event: CursorEvent) -> str:
    """A name for the MCP server: its configured name, else its host or package.

    For a launched server (`npx -y @acme/mail-mcp`, `uvx mcp-server-git`) the last word
    that is not an option names the package better than the launcher does.
    """
    name = event.server_name
    if not name and event.url:
        name = urlsplit(event.url).hostname
    if not name and event.command:
        words = [w for w in event.command.split() if not w.startswith("-")]
        if words:
            name = posixpath.splitext(posixpath.basename(words[-1]))[0]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name or "cursor").strip("-") or "cursor"
