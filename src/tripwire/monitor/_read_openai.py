"""OpenAI-style transcripts: chat-completions messages and Responses API items.

What it reads, as a JSON document or as JSONL:

- a list of chat messages, or an object with a `messages` list (a chat-completions
  request body), or with `input`/`output` item lists (a Responses request or response);
- JSONL with one message (or Responses item) per line: the file is one transcript;
- JSONL with one conversation object (or list of messages) per line: each line is a
  transcript, and a bad line does not stop the others;
- Codex CLI rollouts (`{"type": "response_item", "payload": {...}}` lines).

Assistant `tool_calls` (`function.name`, `function.arguments` as JSON text or an
object), `tool` results paired by `tool_call_id`, the legacy `function_call` and
`function` role, Responses `function_call`/`function_call_output` (and the other
`*_call`/`*_call_output` items) paired by `call_id`. Reasoning comes from `reasoning`,
`reasoning_content` and `thinking` fields, `reasoning`/`thinking` content parts and
Responses `reasoning` items.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from tripwire._errors import TranscriptError

from ._read_lines import (
    Malformed,
    MessageDraft,
    arguments,
    kind,
    loads,
    located,
    reasoning_text,
)
from ._transcript import Role, Transcript, TranscriptToolCall

__all__ = ["read_openai", "transcripts_from_openai"]

_T = TypeVar("_T")
_TEXT_PARTS = frozenset({"text", "input_text", "output_text"})
_REASONING_PARTS = frozenset({"reasoning", "thinking", "reasoning_text", "summary_text"})
_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}
# Codex CLI rollout lines that carry no conversation (event_msg repeats response_items).
_CODEX_SKIP = frozenset({"event_msg", "compacted", "state"})


def read_openai(path: str | Path) -> Iterator[Transcript]:
    """Yield the transcripts of an OpenAI-format JSON or JSONL file, streaming.

    Args:
        path: A `.json` or `.jsonl` file (see the module docstring for the shapes).

    Raises:
        TranscriptError: The file is malformed; the message names the file and line. For
            JSONL with one conversation per line, the first bad line raises after the
            transcripts before it were yielded.
    """
    for item in transcripts_from_openai(path):
        if isinstance(item, TranscriptError):
            raise item
        yield item


def transcripts_from_openai(path: str | Path) -> Iterator[Transcript | TranscriptError]:
    """Like `read_openai`, but a bad conversation line is yielded as its error.

    The lines after it are still read. An error that ends the file is raised.
    """
    source = str(path)
    file = Path(path)
    with file.open("rb") as handle:
        lines = _nonblank(handle)
        first_raw = next(lines, None)
        if first_raw is None:
            raise located(source, None, "no messages (the file is empty)")
        try:
            first = (first_raw[0], loads(first_raw[1], source, first_raw[0]))
        except TranscriptError as line_error:
            # A pretty-printed document: its first line alone is not JSON.
            yield from _document(_whole(file, source, line_error, lines), source, file.name)
            return
        second_raw = next(lines, None)
        if second_raw is None:
            yield from _document(first[1], source, file.name, line=first[0])
            return
        values = _values(second_raw, lines, source)
        if _is_conversation(first[1]):
            yield from _conversation_lines(first, values, source)
        else:
            yield _message_lines(first, values, source, file.name)


def _nonblank(handle: Any) -> Iterator[tuple[int, bytes]]:
    for number, raw in enumerate(handle, 1):
        if raw.strip():
            yield number, raw


def _values(
    second: tuple[int, bytes], lines: Iterator[tuple[int, bytes]], source: str
) -> Iterator[tuple[int, Any | TranscriptError]]:
    """Parsed lines; a line that is not JSON comes as its error, so a caller may read on."""
    for number, raw in _chain(second, lines):
        try:
            yield number, loads(raw, source, number)
        except TranscriptError as ex:
            yield number, ex


def _chain(first: _T, rest: Iterator[_T]) -> Iterator[_T]:
    yield first
    yield from rest


def _whole(
    file: Path, source: str, line_error: TranscriptError, lines: Iterator[tuple[int, bytes]]
) -> Any:
    """The file as one JSON document.

    When it is not one, the error reported is the first line's own if the file reads as
    JSONL (its second line is JSON), else the document's.
    """
    try:
        return loads(file.read_bytes(), source, 1)
    except TranscriptError:
        second = next(lines, None)
        if second is not None:
            try:
                value = loads(second[1], source, second[0])
            except TranscriptError:
                value = None
            if isinstance(value, dict | list):
                raise line_error from None
        raise


def _is_conversation(value: Any) -> bool:
    """A whole conversation (a list of messages, or an object holding them)."""
    if isinstance(value, list):
        return True
    if not isinstance(value, dict) or "role" in value or "type" in value:
        return False
    return "messages" in value or "input" in value or "output" in value


def _document(
    value: Any, source: str, name: str, *, line: int | None = None
) -> Iterator[Transcript]:
    """The transcripts of a file that is one JSON value (on one `line`, when it is)."""
    if isinstance(value, list) and value and _is_conversation(value[0]):
        for index, conversation in enumerate(value):
            try:
                yield _conversation(conversation, source, _ident(conversation, str(index)))
            except Malformed as ex:
                raise located(source, line, f"[{index}]: {ex}") from None
        return
    try:
        if isinstance(value, dict) and _is_conversation(value):
            yield _conversation(value, source, name)
        elif isinstance(value, dict):  # a file holding a single message
            builder = _Builder()
            builder.add(value)
            yield builder.transcript(source, name)
        elif isinstance(value, list):
            builder = _Builder()
            for index, item in enumerate(value):
                builder.add_at(item, f"[{index}]")
            yield builder.transcript(source, name)
        else:
            raise Malformed(
                "expected a list of messages or an object with a `messages` list, "
                f"got a {kind(value)}"
            )
    except Malformed as ex:
        raise located(source, line, str(ex)) from None


def _conversation_lines(
    first: tuple[int, Any], values: Iterator[tuple[int, Any | TranscriptError]], source: str
) -> Iterator[Transcript | TranscriptError]:
    """JSONL with one conversation per line: each line is a transcript of its own.

    A bad line spoils only itself.
    """
    for number, value in _chain(first, values):
        if isinstance(value, TranscriptError):
            yield value
        elif not _is_conversation(value):
            yield located(
                source,
                number,
                f"expected a conversation (an object with a `messages` list) as on line "
                f"{first[0]}, got {_describe(value)}",
            )
        else:
            try:
                yield _conversation(value, source, _ident(value, f"line-{number}"))
            except Malformed as ex:
                yield located(source, number, str(ex))


def _message_lines(
    first: tuple[int, Any],
    values: Iterator[tuple[int, Any | TranscriptError]],
    source: str,
    name: str,
) -> Transcript:
    """JSONL with one message or item per line: the file is one transcript."""
    builder = _Builder()
    for number, value in _chain(first, values):
        if isinstance(value, TranscriptError):
            raise value
        try:
            builder.add(value)
        except Malformed as ex:
            raise located(source, number, str(ex)) from None
    try:
        return builder.transcript(source, name)
    except Malformed as ex:
        raise located(source, None, str(ex)) from None


def _conversation(value: Any, source: str, ident: str) -> Transcript:
    """One conversation object (or list of messages) as a transcript."""
    builder = _Builder()
    if isinstance(value, list):
        items: list[tuple[str, Any]] = [(f"[{i}]", item) for i, item in enumerate(value)]
    else:
        items = []
        instructions = value.get("instructions")
        if isinstance(instructions, str) and instructions:
            items.append(("instructions", {"role": "system", "content": instructions}))
        for key in ("messages", "input", "output"):
            listed = value.get(key)
            if listed is None:
                continue
            if isinstance(listed, str) and key == "input":
                listed = [{"role": "user", "content": listed}]
            if not isinstance(listed, list):
                raise Malformed(f"`{key}` is a {kind(listed)}, expected a list of messages")
            items.extend((f"{key}[{i}]", item) for i, item in enumerate(listed))
        builder.metadata.update(_conversation_metadata(value))
    for where, item in items:
        builder.add_at(item, where)
    return builder.transcript(source, ident)


def _conversation_metadata(value: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key in ("id", "model", "created", "created_at"):
        if isinstance(value.get(key), str | int | float):
            metadata[key] = value[key]
    if isinstance(value.get("metadata"), dict):
        metadata.update(value["metadata"])
    return metadata


def _ident(value: Any, default: str) -> str:
    if isinstance(value, dict):
        for key in ("id", "conversation_id", "session_id"):
            if isinstance(value.get(key), str | int) and str(value[key]):
                return str(value[key])
    return default


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        if "role" in value:
            return f"a single message (role {value['role']!r})"
        return "an object without `messages`"
    return f"a {kind(value)}"


class _Builder:
    """Turns messages and items, in order, into one transcript's messages."""

    def __init__(self) -> None:
        self.drafts: list[MessageDraft] = []
        self.metadata: dict[str, Any] = {}
        self.session: str | None = None
        self._by_id: dict[str, TranscriptToolCall] = {}
        self._waiting: deque[TranscriptToolCall] = deque()  # calls not yet answered, in order
        self._legacy: dict[str, deque[TranscriptToolCall]] = {}  # function_call by name
        self._turn: MessageDraft | None = None  # the Responses assistant turn items still join

    def add_at(self, item: Any, where: str) -> None:
        try:
            self.add(item)
        except Malformed as ex:
            raise Malformed(f"{where}: {ex}") from None

    def add(self, item: Any) -> None:
        """Add one chat message, Responses item or Codex rollout line."""
        if not isinstance(item, dict):
            raise Malformed(f"expected a message object, got a {kind(item)}")
        item_type = item.get("type")
        if item_type is not None and not isinstance(item_type, str):
            raise Malformed(f"`type` is a {kind(item_type)}, expected text")
        if item_type == "response_item" and isinstance(item.get("payload"), dict):
            item = item["payload"]
            item_type = item.get("type")
        elif item_type in ("session_meta", "turn_context") and isinstance(
            item.get("payload"), dict
        ):
            self._codex_meta(item_type, item["payload"])
            return
        elif item_type in _CODEX_SKIP:
            return
        if item_type is not None and not isinstance(item_type, str):
            raise Malformed(f"payload `type` is a {kind(item_type)}, expected text")
        role = item.get("role")
        if role is not None and item_type in (None, "message"):
            self._message(item, role, responses=item_type == "message")
        elif item_type == "reasoning":
            self._reasoning_item(item)
        elif item_type is not None and item_type.endswith("_call_output"):
            text, failed = _output(item)
            self._result(item.get("call_id"), text, failed or item.get("is_error") is True)
        elif item_type is not None and item_type.endswith("_call"):
            self._call_item(item, item_type)
        elif item_type is None:
            raise Malformed("a message needs a `role` (or a Responses item a `type`)")
        # Other item types (item_reference, compaction, ...) carry no conversation.

    def transcript(self, source: str, ident: str) -> Transcript:
        if not self.drafts:
            raise Malformed("no messages")
        if self.session is not None:
            self.metadata.setdefault("session_id", self.session)
        return Transcript(
            source=source,
            id=ident,
            format="openai",
            messages=[draft.message() for draft in self.drafts],
            metadata=self.metadata,
        )

    # -- chat messages -------------------------------------------------------------

    def _message(self, item: dict[str, Any], role: Any, *, responses: bool) -> None:
        if not isinstance(role, str):
            raise Malformed(f"`role` is a {kind(role)}, expected text")
        if role == "tool":
            text = _content(item.get("content"))[0]
            call_id = item.get("tool_call_id")
            self._result(call_id, "\n".join(text), item.get("is_error") is True)
            return
        if role == "function":
            self._legacy_result(item)
            return
        mapped = _ROLES.get(role)
        if mapped is None:
            raise Malformed(
                f"unknown role {role!r} (expected system, developer, user, assistant, tool)"
            )
        texts, reasoning = _content(item.get("content"))
        if mapped == "assistant" and responses and self._joins_turn(texts=True):
            assert self._turn is not None
            draft = self._turn
        else:
            draft = self._new(mapped, turn=mapped == "assistant" and responses)
        draft.texts.extend(texts)
        draft.reasoning.extend(reasoning)
        for key in ("reasoning_content", "reasoning", "thinking"):
            if item.get(key) is not None:
                draft.reasoning.append(reasoning_text(item[key]))
        self._block_parts(item.get("content"), draft, mapped)
        if mapped != "assistant":
            return
        tool_calls = item.get("tool_calls")
        if tool_calls is not None:
            if not isinstance(tool_calls, list):
                raise Malformed(f"assistant `tool_calls` is a {kind(tool_calls)}, expected a list")
            for index, call in enumerate(tool_calls):
                draft.calls.append(self._chat_call(call, index))
        function_call = item.get("function_call")
        if function_call is not None:
            call = _function(function_call, "assistant function_call")
            draft.calls.append(call)
            self._legacy.setdefault(call.tool, deque()).append(call)

    def _block_parts(self, content: Any, draft: MessageDraft, role: Role) -> None:
        """Tool calls and results as content blocks (Anthropic's Messages format).

        Chat logs from Anthropic models keep `tool_use` blocks in assistant content and
        `tool_result` blocks in the next user message; skipping them would drop every
        call and score the transcript clean.
        """
        if not isinstance(content, list):
            return
        for index, part in enumerate(content):
            if not isinstance(part, dict):
                continue
            part_type = part.get("type")
            if part_type in ("tool_use", "server_tool_use"):
                if role != "assistant":
                    raise Malformed(f"content[{index}] is a tool_use block outside an assistant")
                name = part.get("name")
                if not isinstance(name, str) or not name:
                    raise Malformed(f"content[{index}] tool_use has no `name`")
                call_id = part.get("id")
                call = TranscriptToolCall(
                    id=None if call_id is None else str(call_id),
                    tool=name,
                    arguments=arguments(part.get("input")),
                )
                draft.calls.append(call)
                self._register(call)
            elif part_type == "tool_result":
                result = part.get("content")
                text = result if isinstance(result, str) else "\n".join(_content(result)[0])
                self._result(part.get("tool_use_id"), text, part.get("is_error") is True)

    def _chat_call(self, call: Any, index: int) -> TranscriptToolCall:
        where = f"assistant tool_calls[{index}]"
        if not isinstance(call, dict):
            raise Malformed(f"{where} is a {kind(call)}, expected an object")
        converted = _function(call.get("function"), where)
        call_id = call.get("id")
        if call_id is not None and not isinstance(call_id, str | int):
            raise Malformed(f"{where} `id` is a {kind(call_id)}, expected text")
        converted.id = None if call_id is None else str(call_id)
        self._register(converted)
        return converted

    def _legacy_result(self, item: dict[str, Any]) -> None:
        name = item.get("name")
        text = "\n".join(_content(item.get("content"))[0])
        queue = self._legacy.get(name) if isinstance(name, str) else None
        while queue and queue[0].result is not None:
            queue.popleft()
        if not queue:
            raise Malformed(
                f"`function` result for {name!r}, but no earlier assistant function_call "
                "of that name waits for one"
            )
        call = queue.popleft()
        call.result = text
        call.is_error = item.get("is_error") is True

    # -- Responses items -----------------------------------------------------------

    def _reasoning_item(self, item: dict[str, Any]) -> None:
        # `content` holds the full reasoning text where a provider exposes it, `summary`
        # the summary OpenAI returns; `encrypted_content` is unreadable and skipped.
        text = reasoning_text(item.get("content")) or reasoning_text(item.get("summary"))
        draft = self._turn if self._joins_turn(texts=False) else None
        if draft is None or draft.reasoning:
            draft = self._new("assistant", turn=True)
        draft.reasoning.append(text)

    def _call_item(self, item: dict[str, Any], item_type: str) -> None:
        name = item.get("name")
        if name is None:
            name = item_type.removesuffix("_call")  # local_shell_call, web_search_call
        if not isinstance(name, str) or not name:
            raise Malformed(f"{item_type} item has no `name`")
        for key in ("arguments", "input", "action"):
            if key in item:
                args = item[key]
                # Freeform tool input (Codex apply_patch) is text, kept under its own key.
                value = {"input": args} if key == "input" and isinstance(args, str) else args
                break
        else:
            value = None
        call_id = item.get("call_id", item.get("id"))
        call = TranscriptToolCall(
            id=None if call_id is None else str(call_id), tool=name, arguments=arguments(value)
        )
        self._register(call)
        turn = self._turn if self._joins_turn(texts=False) else None
        (turn or self._new("assistant", turn=True)).calls.append(call)

    def _codex_meta(self, item_type: str, payload: dict[str, Any]) -> None:
        if item_type == "session_meta":
            for key in ("cwd", "cli_version", "originator"):
                if isinstance(payload.get(key), str):
                    self.metadata[key] = payload[key]
            if isinstance(payload.get("id"), str):
                self.session = payload["id"]
        elif isinstance(payload.get("model"), str):
            self.metadata.setdefault("model", payload["model"])

    # -- shared --------------------------------------------------------------------

    def _new(self, role: Role, *, turn: bool = False) -> MessageDraft:
        draft = MessageDraft(role=role)
        self.drafts.append(draft)
        self._turn = draft if turn else None
        return draft

    def _joins_turn(self, *, texts: bool) -> bool:
        """Whether a Responses assistant item still belongs to the open turn.

        It does until a result or another message arrives; text joins only a turn that
        has no text or calls yet.
        """
        turn = self._turn
        if turn is None or not self.drafts or self.drafts[-1] is not turn:
            return False
        return not (texts and (turn.texts or turn.calls))

    def _register(self, call: TranscriptToolCall) -> None:
        if call.id is not None:
            self._by_id[call.id] = call
        self._waiting.append(call)

    def _result(self, call_id: Any, text: str, is_error: bool) -> None:
        self._turn = None
        if call_id is None or call_id == "":
            while self._waiting and self._waiting[0].result is not None:
                self._waiting.popleft()
            if not self._waiting:
                raise Malformed("tool result without a `tool_call_id`, and no call waits for one")
            call = self._waiting.popleft()
        else:
            if not isinstance(call_id, str | int):
                raise Malformed(f"tool result's call id is a {kind(call_id)}, expected text")
            found = self._by_id.get(str(call_id))
            if found is None:
                raise Malformed(
                    f"tool result for call {str(call_id)!r}, which no earlier assistant "
                    "message made"
                )
            call = found
        call.result = text if call.result is None else f"{call.result}\n{text}"
        call.is_error = call.is_error or is_error


def _function(value: Any, where: str) -> TranscriptToolCall:
    """A call from a chat `function` object: `{"name": ..., "arguments": ...}`."""
    if not isinstance(value, dict):
        raise Malformed(f"{where} has no `function` object")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise Malformed(f"{where} has no function name")
    return TranscriptToolCall(tool=name, arguments=arguments(value.get("arguments")))


def _output(item: dict[str, Any]) -> tuple[str, bool]:
    """A `*_call_output` item's text, and whether it reports a failure.

    Codex CLI writes a shell call's output as JSON text, `{"output": ..., "metadata":
    {"exit_code": 1}}`: the output is unwrapped and a non-zero exit code is an error.
    """
    output = item.get("output")
    if isinstance(output, str) and output.startswith('{"output"'):
        try:
            wrapped = json.loads(output)
        except (ValueError, RecursionError):
            wrapped = None
        if isinstance(wrapped, dict) and isinstance(wrapped.get("output"), str):
            metadata = wrapped.get("metadata")
            code = metadata.get("exit_code") if isinstance(metadata, dict) else None
            return wrapped["output"], isinstance(code, int) and code != 0
    if isinstance(output, dict):  # some logs keep the object itself
        output = output.get("output", output.get("content"))
    return "\n".join(_content(output)[0]), False


def _content(value: Any) -> tuple[list[str], list[str]]:
    """Text and reasoning of a `content` value: a string, a list of parts, or null."""
    if value is None:
        return [], []
    if isinstance(value, str):
        return [value], []
    parts = value if isinstance(value, list) else [value] if isinstance(value, dict) else None
    if parts is None:
        raise Malformed(f"`content` is a {kind(value)}, expected text or a list of parts")
    texts: list[str] = []
    reasoning: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise Malformed(f"content[{index}] is a {kind(part)}, expected a content part")
        part_type = part.get("type")
        if part_type is not None and not isinstance(part_type, str):
            raise Malformed(f"content[{index}] `type` is a {kind(part_type)}, expected text")
        if part_type in _REASONING_PARTS:
            reasoning.append(reasoning_text(part))
        elif part_type in _TEXT_PARTS or (part_type is None and "text" in part):
            texts.append(_part_text(part.get("text"), index))
        elif part_type == "refusal":
            texts.append(_part_text(part.get("refusal"), index))
        # Images, audio and files carry no text a monitor reads.
    return texts, reasoning


def _part_text(value: Any, index: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("value"), str):
        return str(value["value"])  # Assistants API: {"value": ..., "annotations": [...]}
    raise Malformed(f"content[{index}] `text` is a {kind(value)}, expected text")
