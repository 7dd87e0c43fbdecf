"""Coding-agent hook formats: each agent's event in, each agent's answer out."""

from ._base import EventKind, HookEvent, HookFormat, HookReply, decision_text
from ._claude import ClaudeEvent, ClaudeFormat
from ._codex import CodexEvent, CodexFormat
from ._cursor import CursorEvent, CursorFormat
from ._gemini import GeminiEvent, GeminiFormat

__all__ = [
    "AGENTS",
    "FORMATS",
    "ClaudeEvent",
    "ClaudeFormat",
    "CodexEvent",
    "CodexFormat",
    "CursorEvent",
    "CursorFormat",
    "EventKind",
    "GeminiEvent",
    "GeminiFormat",
    "HookEvent",
    "HookFormat",
    "HookReply",
    "decision_text",
]

FORMATS: dict[str, HookFormat] = {
    f.agent: f for f in (ClaudeFormat(), CodexFormat(), GeminiFormat(), CursorFormat())
}
"""Every supported agent's format, by `--agent` name."""

AGENTS: tuple[str, ...] = tuple(FORMATS)
"""The `--agent` names: claude, codex, gemini, cursor."""
