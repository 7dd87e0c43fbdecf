"""Parse a local model's completion into message text and Inspect tool calls.

The embedded models are prompted (see `_chat_template`) to call tools Qwen2.5's way:

    <tool_call>
    {"name": "bash", "arguments": {"command": "ls"}}
    </tool_call>

Small models drift from it, so parsing is lenient: a missing closing tag at the
end of the text, `arguments` given as a JSON string, `parameters` for `arguments`,
and — only when no `<tool_call>` tag appears — a fenced ```json block of calls (also
one left open, its JSON lines cut off by the token limit), or
calls written as bare JSON at the start of the text (one object, a list, or JSON
lines), each naming an offered tool. A broken call inside `<tool_call>` tags
becomes a `ToolCall` with `parse_error` set, which Inspect reports back to the
model as a tool error instead of failing the sample. Nothing here raises.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from inspect_ai.tool import ToolCall, ToolInfo

from tripwire._text import is_unicode

__all__ = ["TOOL_CALL_FORMAT", "parse_tool_calls"]

TOOL_CALL_FORMAT = (
    '<tool_call>\n{"name": "<tool name>", "arguments": {<JSON arguments>}}\n</tool_call>'
)
"""The tool-call syntax the models are asked for; quoted back in parse errors."""

# A block ends at its closing tag, at the next opening tag, or at the end of the
# text (generation often stops on the end-of-turn token before `</tool_call>`).
_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|(?=<tool_call>)|\Z)", re.DOTALL)
# A fence may run to the end of the text: small models open one and emit JSON lines
# until max_tokens cuts them off.
_FENCE = re.compile(r"```[ \t]*(?:json|tool_call|tool)?[ \t]*\n(.*?)(```|\Z)", re.DOTALL | re.I)
_INNER_FENCE = re.compile(r"\A```[^\n]*\n(.*?)\n?```\Z", re.DOTALL)
_NAME_HINT = re.compile(r"""["']?name["']?\s*[:=]\s*["']?([A-Za-z_][\w.\-]*)""")
_MAX_SHOWN = 2000


def parse_tool_calls(text: str, tools: list[ToolInfo] | None = None) -> tuple[str, list[ToolCall]]:
    """Split a completion into its prose and its tool calls.

    Args:
        text: The raw completion.
        tools: The tools offered this turn. Used to map a non-JSON string of
            arguments onto a tool's first parameter, and to accept fallback
            formats (fenced or bare JSON) only when they name an offered tool.
            With `None`, any name is accepted.

    Returns:
        The text outside tool-call blocks (stripped) and the tool calls in order.
        Calls that could not be parsed carry `parse_error`; unknown tool names are
        returned as given (Inspect answers them with "tool not found").
    """
    blocks = list(_BLOCK.finditer(text))
    if blocks:
        calls = [call for block in blocks for call in _parse_block(block.group(1), tools)]
        return _strip_spans(text, [block.span() for block in blocks]), calls

    # Fallbacks only accept well-formed calls: JSON in prose is not an error.
    for fence in _FENCE.finditer(text):
        calls, rest = _leading_json_calls(fence.group(1), tools)
        # An unclosed fence may end in an object cut off mid-way; it is left as text.
        cut_off = not fence.group(2) and rest[:1] in ("{", "[")
        if calls and (not rest or cut_off):
            return (_strip_spans(text, [fence.span()]) + "\n" + rest).strip(), calls
    calls, rest = _leading_json_calls(text, tools)
    if calls:
        return rest, calls
    return text.strip(), []


def _parse_block(body: str, tools: list[ToolInfo] | None) -> list[ToolCall]:
    """Parse one `<tool_call>` body; always yields at least one call."""
    source = body.strip()
    fenced = _INNER_FENCE.match(source)
    if fenced:
        source = fenced.group(1).strip()
    try:
        data = _load_json(source)
    except ValueError as ex:
        return [_error_call(_name_hint(source), body, f"invalid JSON ({ex})")]
    items = data if isinstance(data, list) and data else [data]
    return [_call_from_object(item, body, tools) for item in items]


def _leading_json_calls(source: str, tools: list[ToolInfo] | None) -> tuple[list[ToolCall], str]:
    """Calls written as bare JSON at the start of `source`, and the text after them.

    Accepts one object, a list of objects, or several objects one after another
    (small models emit JSON lines, often running on until cut off: an unfinished
    last object is left in the returned text). Every value must name a tool.
    """
    decoder = json.JSONDecoder()
    items: list[Any] = []
    position = _skip_space(source, 0)
    while position < len(source) and source[position] in "{[":
        try:
            value, position = decoder.raw_decode(source, position)
        except (ValueError, RecursionError):
            break
        values = value if isinstance(value, list) else [value]
        if not values or not all(_looks_like_call(item, tools) for item in values):
            return [], source.strip()
        items.extend(values)
        position = _skip_space(source, position)
    calls = [_call_from_object(item, source, tools) for item in items]
    if not calls or any(call.parse_error for call in calls):
        return [], source.strip()
    return calls, source[position:].strip()


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _looks_like_call(item: Any, tools: list[ToolInfo] | None) -> bool:
    if not isinstance(item, dict):
        return False
    name = _name_of(item)
    if not isinstance(name, str) or not name:
        return False
    return tools is None or any(tool.name == name for tool in tools)


def _call_from_object(data: Any, body: str, tools: list[ToolInfo] | None) -> ToolCall:
    call = _object_call(data, body, tools)
    text = call.function + json.dumps(call.arguments, ensure_ascii=False)
    if not is_unicode(text):
        # JSON can escape a lone surrogate (\ud800), which nothing downstream can encode.
        return _error_call("unknown", body, "the call holds a lone surrogate escape (\\ud800)")
    return call


def _object_call(data: Any, body: str, tools: list[ToolInfo] | None) -> ToolCall:
    if not isinstance(data, dict):
        return _error_call("unknown", body, "expected a JSON object with 'name' and 'arguments'")
    name = _name_of(data)
    if not isinstance(name, str) or not name.strip():
        return _error_call("unknown", body, "the JSON object has no string 'name'")
    name = name.strip()
    arguments = _arguments_of(data)
    if arguments is None or arguments == "":
        return ToolCall(id=_new_id(), function=name, arguments={})
    if isinstance(arguments, str):
        try:
            decoded = json.loads(arguments)
        except (ValueError, RecursionError):
            decoded = arguments
        if isinstance(decoded, str):
            return _string_argument_call(name, decoded, body, tools)
        arguments = decoded
    if not isinstance(arguments, dict):
        return _error_call(name, body, "'arguments' must be a JSON object")
    return ToolCall(id=_new_id(), function=name, arguments=arguments)


def _name_of(data: dict[str, Any]) -> Any:
    # OpenAI style nests the call: {"function": {"name": ..., "arguments": ...}}.
    function = data.get("function")
    if isinstance(function, dict):
        return function.get("name")
    return data.get("name", function)


def _arguments_of(data: dict[str, Any]) -> Any:
    function = data.get("function")
    source = function if isinstance(function, dict) else data
    for key in ("arguments", "parameters", "args"):
        if key in source:
            return source[key]
    return None


def _string_argument_call(
    name: str, value: str, body: str, tools: list[ToolInfo] | None
) -> ToolCall:
    """A plain-string argument goes to the tool's first parameter, as Inspect does."""
    tool = next((t for t in tools or [] if t.name == name), None)
    if tool is None or not tool.parameters.properties:
        return _error_call(name, body, "'arguments' is a string, expected a JSON object")
    first = next(iter(tool.parameters.properties))
    return ToolCall(id=_new_id(), function=name, arguments={first: value})


def _load_json(source: str) -> Any:
    """`json.loads`, tolerating trailing junk after one complete value."""
    try:
        return json.loads(source)
    except RecursionError as ex:
        raise ValueError("nested too deeply") from ex
    except json.JSONDecodeError as ex:
        start = min((i for i in (source.find("{"), source.find("[")) if i >= 0), default=-1)
        if start < 0:
            raise ValueError(str(ex)) from ex
        try:
            value, _ = json.JSONDecoder().raw_decode(source, start)
        except RecursionError as inner:
            raise ValueError("nested too deeply") from inner
        except json.JSONDecodeError:
            raise ValueError(str(ex)) from ex
        return value


def _name_hint(source: str) -> str:
    match = _NAME_HINT.search(source)
    return match.group(1) if match else "unknown"


def _error_call(function: str, body: str, problem: str) -> ToolCall:
    # Text decoded with `surrogateescape` may hold lone surrogates: shown as `?`.
    shown = body.strip().encode("utf-8", "replace").decode("utf-8")
    if len(shown) > _MAX_SHOWN:
        shown = shown[: _MAX_SHOWN // 2] + "\n…\n" + shown[-_MAX_SHOWN // 2 :]
    message = (
        f"Could not parse this tool call: {problem}.\n\n{shown}\n\n"
        f"Call tools exactly like this:\n{TOOL_CALL_FORMAT}"
    )
    return ToolCall(id=_new_id(), function=function, arguments={}, parse_error=message)


def _strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return "".join(pieces).strip()


def _new_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"
