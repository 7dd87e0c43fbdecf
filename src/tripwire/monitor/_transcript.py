"""One transcript model for every format the monitors read.

Readers turn OpenAI chat messages, Inspect `.eval` samples and Claude Code sessions into
a `Transcript`; scorers only ever see this shape. A tool call carries its own result (the
readers pair results with calls by id), so a scorer reads a call and what came back
together.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Role", "Transcript", "TranscriptFormat", "TranscriptMessage", "TranscriptToolCall"]

Role = Literal["system", "user", "assistant"]
"""Who wrote a message (tool results live on their calls, not as messages)."""

TranscriptFormat = Literal["openai", "inspect", "claude-code", "synthetic"]
"""Where a transcript came from."""


class TranscriptToolCall(BaseModel):
    """One tool call the agent made, with what the tool returned."""

    id: str | None = None
    """The call's id in the source (used to pair it with its result)."""

    tool: str
    """The tool's name as the agent called it (`bash`, `Bash`, `run_command`, `mcp__fs__write`)."""

    arguments: dict[str, Any] = Field(default_factory=dict)
    """The call's arguments. Arguments the source held as a non-object JSON value, or as
    text that is not JSON, are kept under `_raw`."""

    result: str | None = None
    """The tool's output as text, or None when the transcript has no result for it."""

    is_error: bool = False
    """True when the source marks the result as an error."""


class TranscriptMessage(BaseModel):
    """One message of the conversation."""

    role: Role
    """system, user or assistant."""

    text: str = ""
    """The visible text of the message."""

    reasoning: str = ""
    """Reasoning the source keeps apart from the text (thinking blocks, `reasoning`
    fields); empty when there is none or it was redacted."""

    tool_calls: list[TranscriptToolCall] = Field(default_factory=list)
    """Tool calls made in this message (assistant messages only)."""


class Transcript(BaseModel):
    """One agent's conversation, as read from a file."""

    source: str
    """The file it was read from."""

    id: str
    """Which transcript of the file (the sample id and epoch of an `.eval` sample, the
    session id of a Claude Code log, the file name otherwise)."""

    format: TranscriptFormat
    """The source format."""

    messages: list[TranscriptMessage] = Field(default_factory=list)
    """The conversation in order."""

    metadata: dict[str, Any] = Field(default_factory=dict)
    """What the source says about the run (model, task, sample metadata); never used
    to score, so a scorer cannot read a label."""

    def tool_calls(self) -> Iterator[TranscriptToolCall]:
        """Every tool call, in order."""
        for message in self.messages:
            yield from message.tool_calls

    def agent_text(self) -> str:
        """The agent's own words: every assistant message's reasoning and text."""
        parts: list[str] = []
        for message in self.messages:
            if message.role == "assistant":
                parts.extend(p for p in (message.reasoning, message.text) if p)
        return "\n".join(parts)

    @property
    def label(self) -> str:
        """`file` for single-transcript files, `file#id` otherwise (for output lines)."""
        return self.source if self.id == _file_id(self.source) else f"{self.source}#{self.id}"


def _file_id(source: str) -> str:
    return source.rsplit("/", 1)[-1]
