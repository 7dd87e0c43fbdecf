"""Gemini CLI's hook format (BeforeTool / AfterTool in `.gemini/settings.json`).

Sources (seen 2026-11-30):
- https://geminicli.com/docs/hooks/reference (= google-gemini/gemini-cli
  `docs/hooks/reference.md`): stdin `session_id`, `transcript_path`, `cwd`,
  `hook_event_name`, `timestamp`, `tool_name` (`run_shell_command`, `write_file`,
  `replace`, `read_file`, `mcp__<server>__<tool>`), `tool_input`, `tool_response`
  (AfterTool), `mcp_context`. Exit 2 blocks with stderr as the reason; exit 0 stdout is
  JSON: `decision` allow/deny (alias block) + `reason`; `continue: false` kills the
  agent loop; other exit codes are warnings and the call goes ahead. There is no ask:
  an ask is refused with the reason. AfterTool `decision: "deny"` withholds the tool's
  output from the model and shows `reason` instead. Hook `timeout` is in milliseconds.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tripwire._errors import UnparseableError

from .._call import GuardCall
from .._decision import Decision
from ._base import EventKind, HookEvent, HookReply, decision_text, validate_event

__all__ = ["GeminiEvent", "GeminiFormat"]

_KINDS: dict[str, EventKind] = {"BeforeTool": "pre", "AfterTool": "post"}


class GeminiEvent(BaseModel):
    """A Gemini CLI tool hook event as it arrives on stdin."""

    model_config = ConfigDict(extra="allow")

    hook_event_name: str
    """`BeforeTool` or `AfterTool`."""

    tool_name: str = Field(min_length=1)
    """`run_shell_command`, `write_file`, `replace`, `read_file`, `mcp__<server>__<tool>`."""

    tool_input: dict[str, Any]
    """The tool's arguments, as the model gave them."""

    cwd: str = Field(min_length=1)
    """The session's working directory."""

    session_id: str | None = None
    """The session."""

    timestamp: str | None = None
    """When the event fired (ISO 8601; not read)."""

    tool_response: Any = None
    """AfterTool only: the tool's result (not read)."""

    mcp_context: dict[str, Any] | None = None
    """MCP tools only: the server's identity (not read)."""


class GeminiFormat:
    """Gemini CLI: exit 2 + stderr refuses; JSON `decision`/`continue` on exit 0."""

    agent = "gemini"

    def parse(self, data: dict[str, Any]) -> HookEvent:
        """The event in `data` (see `HookFormat.parse`)."""
        event = validate_event(GeminiEvent, data, self.agent)
        kind = _KINDS.get(event.hook_event_name)
        if kind is None:
            raise UnparseableError(
                f"gemini hook event {event.hook_event_name!r} is not a tool event tripwire "
                "handles; register tripwire hook on BeforeTool (and AfterTool) only"
            )
        return HookEvent(
            agent=self.agent,
            name=event.hook_event_name,
            kind=kind,
            call=GuardCall(
                tool=event.tool_name,
                arguments=event.tool_input,
                cwd=event.cwd,
                session=event.session_id,
                source=f"hook:{self.agent}",
            ),
        )

    def reply(self, decision: Decision, event: HookEvent | None) -> HookReply:
        """Gemini CLI's answer (see `HookFormat.reply`)."""
        text = decision_text(decision)
        post = event is not None and event.kind == "post"
        if decision.action == "allow" or (post and decision.action == "ask"):
            return HookReply({"decision": "allow"})
        if post:
            text += " (this call already ran; its output is withheld)"
        answer: dict[str, Any] = {"decision": "deny", "reason": text}
        if decision.action == "kill":
            return HookReply({**answer, "continue": False, "stopReason": text})
        return HookReply(answer, block=None if post else text)
