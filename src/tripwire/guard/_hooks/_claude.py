"""Claude Code's hook format (PreToolUse / PostToolUse), for command and HTTP hooks.

Sources (seen 2026-11-30):
- https://docs.anthropic.com/en/docs/claude-code/hooks (hooks reference: stdin fields,
  exit code 2, `hookSpecificOutput.permissionDecision` allow/deny/ask, `continue`,
  PostToolUse `decision: "block"`)
- https://claude-code-guide.org/hooks-http (`"type": "http"` hooks: the same JSON is
  POSTed, a 2xx JSON body is read like a command hook's stdout; non-2xx, timeouts and
  connection failures are non-blocking errors unless `onFailure: "block"`)
- https://dev.to/gabrielanhaia/a-claude-code-hook-that-times-out-lets-the-command-through-make-it-fail-closed-1g5k
  (`onFailure: "block"`, Claude Code 2.1.295: a hook that cannot start, times out or
  exits with an unexpected code blocks the call)

An allow is answered with an empty object, not `permissionDecision: "allow"`: the guard
found nothing against the call, which is not the user's approval, so Claude Code's own
permission rules still apply (NeMo Guardrails' hooks server does the same).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tripwire._errors import UnparseableError

from .._call import GuardCall
from .._decision import Decision
from ._base import EventKind, HookEvent, HookReply, decision_text, validate_event

__all__ = ["ClaudeEvent", "ClaudeFormat", "tool_event_kind"]

_KINDS: dict[str, EventKind] = {
    "PreToolUse": "pre",
    "PostToolUse": "post",
    "PostToolUseFailure": "post",
}


class ClaudeEvent(BaseModel):
    """A Claude Code (or Codex) tool hook event as it arrives on stdin."""

    model_config = ConfigDict(extra="allow")

    hook_event_name: str
    """`PreToolUse`, `PostToolUse` or `PostToolUseFailure`."""

    tool_name: str = Field(min_length=1)
    """`Bash`, `Write`, `Edit`, `Read`, `WebFetch`, `mcp__<server>__<tool>`, ..."""

    tool_input: dict[str, Any]
    """The tool's arguments, as the model gave them (paths are absolute)."""

    cwd: str = Field(min_length=1)
    """The session's working directory."""

    session_id: str | None = None
    """The session; rate limits and the audit log key on it."""

    transcript_path: str | None = None
    """The session transcript (not read)."""

    tool_use_id: str | None = None
    """The call's id (kept in the audit log through the event, not used to decide)."""

    tool_response: Any = None
    """PostToolUse only: what the tool returned (not read)."""


def tool_event_kind(name: str, agent: str) -> EventKind:
    """`pre` or `post` for a PreToolUse-style event name, else UnparseableError."""
    kind = _KINDS.get(name)
    if kind is None:
        raise UnparseableError(
            f"{agent} hook event {name!r} is not a tool event tripwire handles; "
            f"register tripwire hook on PreToolUse (and PostToolUse) only"
        )
    return kind


class ClaudeFormat:
    """Claude Code: exit 2 + stderr refuses; JSON on exit 0 asks or stops the agent."""

    agent = "claude"
    event_model: type[ClaudeEvent] = ClaudeEvent
    """The stdin event's model (formats built on Claude Code's extend it)."""

    def parse(self, data: dict[str, Any]) -> HookEvent:
        """The event in `data` (see `HookFormat.parse`)."""
        event = validate_event(self.event_model, data, self.agent)
        return HookEvent(
            agent=self.agent,
            name=event.hook_event_name,
            kind=tool_event_kind(event.hook_event_name, self.agent),
            call=GuardCall(
                tool=event.tool_name,
                arguments=self.arguments(event.tool_name, event.tool_input),
                cwd=event.cwd,
                session=event.session_id,
                source=f"hook:{self.agent}",
            ),
        )

    def arguments(self, tool: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        """The call's arguments as the guard gets them (here: as the agent sent them)."""
        return tool_input

    def reply(self, decision: Decision, event: HookEvent | None) -> HookReply:
        """Claude Code's answer (see `HookFormat.reply`)."""
        text = decision_text(decision)
        if event is not None and event.kind == "post":
            return HookReply(post_report(decision, text))
        name = event.name if event is not None else "PreToolUse"
        if decision.action == "allow":
            return HookReply({})
        answer: dict[str, Any] = {
            "hookSpecificOutput": {
                "hookEventName": name,
                "permissionDecision": "ask" if decision.action == "ask" else "deny",
                "permissionDecisionReason": text,
            }
        }
        if decision.action == "ask":
            return HookReply(answer)
        if decision.action == "kill":
            # Stopping the agent needs the JSON answer: exit 2 would only refuse the call.
            return HookReply({"continue": False, "stopReason": text, **answer})
        return HookReply(answer, block=text)


def post_report(decision: Decision, text: str) -> dict[str, Any]:
    """PostToolUse answer: a call the policy refuses ran anyway; tell the model.

    `decision: "block"` after the fact shows the reason to the model (the call cannot
    be undone); `kill` also stops the agent.
    """
    if decision.action not in ("deny", "kill"):
        return {}
    reason = f"{text} (this call already ran; the policy would have refused it)"
    answer: dict[str, Any] = {"decision": "block", "reason": reason}
    if decision.action == "kill":
        answer.update({"continue": False, "stopReason": reason})
    return answer
