"""Inspect `.eval` (and `.json`) logs: every sample becomes a transcript."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog, EvalSample, read_eval_log, read_eval_log_samples
from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ContentReasoning,
    ContentText,
)

from tripwire._errors import TranscriptError

from ._transcript import Role, Transcript, TranscriptMessage, TranscriptToolCall

__all__ = [
    "brief_error",
    "read_inspect_log",
    "transcript_from_messages",
    "transcript_from_sample",
    "transcripts_from_log",
]


def read_inspect_log(path: str | Path) -> Iterator[Transcript]:
    """Yield one transcript per sample (and epoch) of an Inspect log, streaming.

    Raises:
        TranscriptError: The file is not an Inspect log, holds no sample, or a sample
            cannot be read.
    """
    source = str(path)
    try:
        header = read_eval_log(source, header_only=True)
    except Exception as ex:  # inspect raises many types for a bad file
        raise TranscriptError(f"{source}: not a readable Inspect log ({brief_error(ex)})") from ex
    run = _run_metadata(header)
    # A partial log is read too: its finished samples are transcripts.
    read = 0
    try:
        for sample in read_eval_log_samples(source, all_samples_required=False):
            read += 1
            yield transcript_from_sample(sample, source, run)
    except Exception as ex:
        raise TranscriptError(f"{source}: a sample could not be read ({brief_error(ex)})") from ex
    if not read:  # nothing to judge is not a clean result
        raise TranscriptError(f"{source}: no samples (the log holds no finished sample)")


def transcripts_from_log(log: EvalLog, source: str) -> Iterator[Transcript]:
    """One transcript per sample of a log already read in full (no second read)."""
    run = _run_metadata(log)
    for sample in log.samples or []:
        yield transcript_from_sample(sample, source, run)


def _run_metadata(log: EvalLog) -> dict[str, Any]:
    return {"model": log.eval.model, "task": log.eval.task, "eval_id": log.eval.eval_id}


def transcript_from_sample(
    sample: EvalSample, source: str, run: dict[str, Any] | None = None
) -> Transcript:
    """The transcript of one Inspect sample (its id and epoch name it in the file)."""
    metadata = {**(run or {}), "sample_id": sample.id, "epoch": sample.epoch}
    metadata["sample_metadata"] = dict(sample.metadata or {})
    return transcript_from_messages(
        sample.messages, source=source, id=f"{sample.id}/{sample.epoch}", metadata=metadata
    )


def transcript_from_messages(
    messages: Sequence[ChatMessage],
    *,
    source: str,
    id: str,
    metadata: dict[str, Any] | None = None,
) -> Transcript:
    """A transcript from Inspect chat messages (tool results attach to their calls)."""
    out: list[TranscriptMessage] = []
    calls: dict[str, TranscriptToolCall] = {}
    for message in messages:
        if isinstance(message, ChatMessageTool):
            text = message.text
            if message.error is not None:
                text = f"{text}\n{message.error.message}".strip()
            call = calls.get(message.tool_call_id or "")
            if call is not None:
                call.result = text
                call.is_error = message.error is not None
            continue
        role: Role = (
            "assistant"
            if isinstance(message, ChatMessageAssistant)
            else "system"
            if isinstance(message, ChatMessageSystem)
            else "user"
        )
        text, reasoning = _text_and_reasoning(message)
        converted = TranscriptMessage(role=role, text=text, reasoning=reasoning)
        if isinstance(message, ChatMessageAssistant):
            for tool_call in message.tool_calls or []:
                arguments = dict(tool_call.arguments or {})
                converted.tool_calls.append(
                    TranscriptToolCall(
                        id=tool_call.id, tool=tool_call.function, arguments=arguments
                    )
                )
                calls[tool_call.id] = converted.tool_calls[-1]
        out.append(converted)
    return Transcript(source=source, id=id, format="inspect", messages=out, metadata=metadata or {})


def _text_and_reasoning(message: ChatMessage) -> tuple[str, str]:
    if isinstance(message.content, str):
        return message.content, ""
    texts: list[str] = []
    reasoning: list[str] = []
    for part in message.content:
        if isinstance(part, ContentReasoning):
            if not part.redacted:
                reasoning.append(part.reasoning)
        elif isinstance(part, ContentText):
            texts.append(part.text)
    return "\n".join(texts), "\n".join(reasoning)


def brief_error(ex: Exception) -> str:
    """An exception as one short line: its type and its message's first line."""
    text = str(ex).strip().splitlines()
    return f"{type(ex).__name__}: {text[0][:200]}" if text else type(ex).__name__
