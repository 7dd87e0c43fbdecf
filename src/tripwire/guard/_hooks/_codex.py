"""OpenAI Codex CLI's hook format (PreToolUse / PostToolUse in hooks.json or config.toml).

Sources (seen 2026-11-30):
- https://developers.openai.com/codex/hooks (hooks on by default since Codex 0.124;
  `[[hooks.PreToolUse]]` in `config.toml` or `~/.codex/hooks.json`)
- https://github.com/openai/codex/blob/main/codex-rs/hooks/src/engine/output_parser.rs
  and `codex-rs/hooks/src/events/pre_tool_use.rs`: stdin as Claude Code's plus `turn_id`
  and `model`; shell calls arrive as `tool_name: "Bash"` with `{"command": ...}`, file
  edits as `apply_patch` with the patch text in `tool_input.command`, MCP tools as
  `mcp__<server>__<tool>`. Exit 2 with a reason on stderr blocks;
  `permissionDecision: "deny"` needs a non-empty reason; `permissionDecision: "ask"`, a
  bare `"allow"` and `continue: false` are *rejected as invalid and the call goes
  ahead*, so every refusal here, ask and kill included, is a plain deny (exit 2).
  PostToolUse `decision: "block"` with a reason feeds the reason to the model.
- https://docs.nvidia.com/nemo/guardrails/run-guardrailed-inference/using-hooks-server/codex
  (Codex has no HTTP hook type: a command hook pipes the event to the server with curl)
"""

from __future__ import annotations

from typing import Any

from .._decision import Decision
from ._base import HookEvent, HookReply, decision_text
from ._claude import ClaudeEvent, ClaudeFormat, post_report

__all__ = ["CodexEvent", "CodexFormat"]


class CodexEvent(ClaudeEvent):
    """A Codex tool hook event: Claude Code's fields plus the turn and model."""

    turn_id: str | None = None
    """The turn within the session."""

    model: str | None = None
    """The model making the call."""


class CodexFormat(ClaudeFormat):
    """Codex: every refusal is exit 2 with the reason on stderr (ask is not supported).

    Events are Claude Code's (plus turn and model), so parsing is Claude's.
    """

    agent = "codex"
    event_model = CodexEvent

    def arguments(self, tool: str, tool_input: dict[str, Any]) -> dict[str, Any]:
        """`apply_patch`'s patch under `patch` too (see `_patch_arguments`)."""
        return _patch_arguments(tool, tool_input)

    def reply(self, decision: Decision, event: HookEvent | None) -> HookReply:
        """Codex's answer (see `HookFormat.reply`)."""
        text = decision_text(decision)
        if event is not None and event.kind == "post":
            return HookReply(post_report(decision, text))
        if decision.action == "allow":
            return HookReply({})
        if decision.action == "ask":
            text += " (Codex hooks cannot ask: refused; run it yourself if you approve)"
        answer = {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "deny",
                "permissionDecisionReason": text,
            }
        }
        return HookReply(answer, block=text)


def _patch_arguments(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """`apply_patch`'s patch under `patch` too, where the guard's editor reader looks.

    Codex sends the patch text as `command`; without the alias the guard would see a
    patch tool with no patch and no paths, i.e. nothing to refuse.
    """
    command = arguments.get("command")
    if "patch" in tool.lower() and isinstance(command, str) and "patch" not in arguments:
        return {**arguments, "patch": command}
    return arguments
