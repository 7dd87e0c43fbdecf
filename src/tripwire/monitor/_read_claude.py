"""Claude Code session logs (`~/.claude/projects/<project>/<session>.jsonl`).

Each line is an event. `user` and `assistant` events carry an Anthropic API `message`
whose `content` is text or a list of blocks (`text`, `thinking`, `redacted_thinking`,
`tool_use`, `tool_result`); `system` events with text (hook output, compaction notes)
become system messages; `summary` lines title a session; other events (`progress`,
`file-history-snapshot`, `queue-operation`) are skipped.

Claude Code writes one line per content block, so consecutive assistant events with the
same `message.id` are one message. Tool results arrive in `user` events and attach to
their `tool_use` by id. A file can hold several sessions (`sessionId`): each becomes its
own transcript. Sub-agent events (`isSidechain`) stay in their session, in file order:
what a sub-agent ran is what the agent ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._read_lines import Malformed, MessageDraft, arguments, json_lines, kind, located
from ._transcript import Transcript, TranscriptToolCall

__all__ = ["read_claude_code"]

_META_KEYS = {"cwd": "cwd", "version": "version", "gitBranch": "git_branch"}


def read_claude_code(path: str | Path) -> Iterator[Transcript]:
    """Yield one transcript per session of a Claude Code session log.

    The whole file is read before the first transcript is yielded (sessions may
    interleave), one file at a time.

    Raises:
        TranscriptError: A line is not JSON or an event is malformed (the message names
            the file and line), or the file holds no messages.
    """
    source = str(path)
    file = Path(path)
    sessions: dict[str, _Session] = {}
    seen: set[str] = set()
    summaries: list[tuple[str, str]] = []
    for number, event in json_lines(file, source):
        if not isinstance(event, dict):
            raise located(source, number, f"expected an event object, got a {kind(event)}")
        event_type = event.get("type")
        if event_type == "summary":
            if isinstance(event.get("summary"), str) and isinstance(event.get("leafUuid"), str):
                summaries.append((event["leafUuid"], event["summary"]))
            continue
        if event_type not in ("user", "assistant", "system"):
            continue
        uuid = event.get("uuid")
        if isinstance(uuid, str):
            if uuid in seen:  # Claude Code sometimes writes an event twice
                continue
            seen.add(uuid)
        session_id = event.get("sessionId")
        if not isinstance(session_id, str) or not session_id:
            session_id = file.stem
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = _Session(session_id)
        try:
            session.add(event, event_type)
        except Malformed as ex:
            raise located(source, number, str(ex)) from None
    found = [session for session in sessions.values() if session.drafts]
    if not found:
        raise located(source, None, "no messages (no user or assistant events)")
    for leaf, summary in summaries:
        for session in found:
            if leaf in session.uuids:
                session.metadata.setdefault("summary", summary)
    for session in found:
        yield session.transcript(source)


class _Session:
    """One session's messages, built event by event."""

    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.drafts: list[MessageDraft] = []
        self.metadata: dict[str, Any] = {"session_id": session_id}
        self.uuids: set[str] = set()
        self._calls: dict[str, TranscriptToolCall] = {}

    def add(self, event: dict[str, Any], event_type: str) -> None:
        if isinstance(event.get("uuid"), str):
            self.uuids.add(event["uuid"])
        self._note(event)
        if event_type == "system":
            content = event.get("content")
            if isinstance(content, str) and content.strip():
                self.drafts.append(MessageDraft(role="system", texts=[content]))
            return
        message = event.get("message")
        if not isinstance(message, dict):
            raise Malformed(f"{event_type} event has no `message` object (got a {kind(message)})")
        if event_type == "user":
            self._user(message.get("content"))
        else:
            self._assistant(message)

    def transcript(self, source: str) -> Transcript:
        return Transcript(
            source=source,
            id=self.id,
            format="claude-code",
            messages=[draft.message() for draft in self.drafts],
            metadata=self.metadata,
        )

    def _note(self, event: dict[str, Any]) -> None:
        for key, name in _META_KEYS.items():
            if isinstance(event.get(key), str) and event[key]:
                self.metadata.setdefault(name, event[key])
        timestamp = event.get("timestamp")
        if isinstance(timestamp, str):
            self.metadata.setdefault("started_at", timestamp)
            self.metadata["ended_at"] = timestamp
        if event.get("isSidechain") is True:
            self.metadata["has_sidechain"] = True

    def _user(self, content: Any) -> None:
        if content is None:
            return
        if isinstance(content, str):
            self.drafts.append(MessageDraft(role="user", texts=[content]))
            return
        texts: list[str] = []
        for index, block in enumerate(_blocks(content, "user")):
            block_type = block.get("type")
            if block_type == "text":
                texts.append(_text(block, "text", index))
            elif block_type == "tool_result":
                self._result(block, index)
            # images and documents carry no text a monitor reads
        if texts:
            self.drafts.append(MessageDraft(role="user", texts=texts))

    def _assistant(self, message: dict[str, Any]) -> None:
        message_id = message.get("id") if isinstance(message.get("id"), str) else None
        last = self.drafts[-1] if self.drafts else None
        if (
            last is not None
            and last.role == "assistant"
            and message_id is not None
            and last.message_id == message_id
        ):
            draft = last  # the next content block of the same API message
        else:
            draft = MessageDraft(role="assistant", message_id=message_id)
            self.drafts.append(draft)
        model = message.get("model")
        if isinstance(model, str) and model and not model.startswith("<"):
            self.metadata.setdefault("model", model)  # "<synthetic>" marks Claude Code's own
        content = message.get("content")
        if isinstance(content, str):
            draft.texts.append(content)
            return
        if content is None:
            return
        for index, block in enumerate(_blocks(content, "assistant")):
            block_type = block.get("type")
            if block_type == "text":
                draft.texts.append(_text(block, "text", index))
            elif block_type == "thinking":
                draft.reasoning.append(_text(block, "thinking", index))
            elif block_type in ("tool_use", "server_tool_use"):
                draft.calls.append(self._call(block, index))
            elif isinstance(block_type, str) and block_type.endswith("tool_result"):
                self._result(block, index)  # server tools answer inside the message
            # redacted_thinking has no readable text

    def _call(self, block: dict[str, Any], index: int) -> TranscriptToolCall:
        name = block.get("name")
        if not isinstance(name, str) or not name:
            raise Malformed(f"assistant content[{index}] tool_use has no `name`")
        call_id = block.get("id")
        call = TranscriptToolCall(
            id=call_id if isinstance(call_id, str) else None,
            tool=name,
            arguments=arguments(block.get("input")),
        )
        if call.id is not None:
            self._calls[call.id] = call
        return call

    def _result(self, block: dict[str, Any], index: int) -> None:
        call_id = block.get("tool_use_id")
        call = self._calls.get(call_id) if isinstance(call_id, str) else None
        if call is None:
            raise Malformed(
                f"content[{index}] tool_result for {call_id!r}, which no earlier tool_use made"
            )
        text = _result_text(block.get("content"), index)
        call.result = text if call.result is None else f"{call.result}\n{text}"
        call.is_error = call.is_error or block.get("is_error") is True


def _blocks(content: Any, role: str) -> Iterator[dict[str, Any]]:
    if not isinstance(content, list):
        raise Malformed(f"{role} message content is a {kind(content)}, expected text or a list")
    for index, block in enumerate(content):
        if isinstance(block, str):
            yield {"type": "text", "text": block}
        elif isinstance(block, dict):
            yield block
        else:
            raise Malformed(f"{role} content[{index}] is a {kind(block)}, expected a block")


def _text(block: dict[str, Any], key: str, index: int) -> str:
    value = block.get(key)
    if not isinstance(value, str):
        raise Malformed(f"content[{index}] {block.get('type')} block's `{key}` is a {kind(value)}")
    return value


def _result_text(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Malformed(f"content[{index}] tool_result content is a {kind(content)}")
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "\n".join(texts)
