"""Render Inspect messages and tools into a local model's prompt with its own chat template.

A GGUF carries the Jinja2 chat template the model was trained with
(`tokenizer.chat_template`). It is rendered here the way Hugging Face
`transformers` renders it (sandboxed environment, `tojson` without HTML
escaping, `raise_exception`), so the model sees exactly its training format.

Every model is asked to call tools the Qwen2.5 way — `<tool_call>{json}</tool_call>`
blocks, answered by `<tool_response>` blocks — so one parser serves all of
them. Templates that know tools (Qwen2.5) describe them themselves; for
templates that do not (SmolLM2) we add our own description to the system
message and write past calls and results into the text in the same format.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
import jinja2.meta
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool
from inspect_ai.tool import ToolCall, ToolInfo
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tripwire._errors import ModelError

__all__ = ["ChatTemplate", "tool_instructions", "tool_schemas"]

# Written-out special tokens (`<|im_start|>`, `<|eot_id|>`, Gemma's turn markers):
# the prompt is tokenized with special tokens parsed, so one of these inside a
# message (a file the agent read, say) would forge a turn boundary.
_SPECIAL_TOKEN = re.compile(r"<\|[\w.\-]{1,64}\|>|<(?:start|end)_of_turn>")
_END_OF_TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")


class ChatTemplate:
    """A model's chat template, compiled once.

    Args:
        source: The Jinja2 source (a GGUF's `tokenizer.chat_template`).
        bos_token: Text of the model's beginning-of-sequence token.
        eos_token: Text of the model's end-of-sequence token.

    Raises:
        ModelError: If the template does not compile.
    """

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = "") -> None:
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        environment = _environment()
        try:
            self._template = environment.from_string(source)
            variables = jinja2.meta.find_undeclared_variables(environment.parse(source))
        except jinja2.TemplateError as ex:
            raise ModelError(f"The model's chat template does not compile: {ex}") from ex
        self.supports_tools = "tools" in variables
        """Whether the template renders a `tools` list itself."""
        special = [re.escape(token) for token in (bos_token, eos_token) if token]
        self._markers = re.compile("|".join([_SPECIAL_TOKEN.pattern, *special]))

    @property
    def stop_sequences(self) -> list[str]:
        """Text that ends the assistant's turn: the EOS token and the template's turn marker."""
        stops = [self.eos_token] if self.eos_token else []
        stops += [m for m in _END_OF_TURN_MARKERS if m in self.source and m not in stops]
        return stops

    def render(self, messages: list[ChatMessage], tools: list[ToolInfo]) -> str:
        """Render a conversation, ending with the cue for the assistant's next turn.

        Args:
            messages: The conversation so far.
            tools: Tools the model may call (empty for none).

        Returns:
            The prompt text, special tokens written out as text.

        Raises:
            ModelError: If the template rejects the conversation (its
                `raise_exception`, e.g. for roles out of order).
        """
        schemas = tool_schemas(tools)
        if self.supports_tools:
            rendered = [_native_message(message) for message in messages]
        else:
            rendered = _inline_tool_messages(messages)
        rendered = _defused(rendered, self._markers)
        if not self.supports_tools and schemas:
            rendered = _with_system_text(rendered, tool_instructions(schemas))
        try:
            return self._template.render(
                messages=rendered,
                tools=schemas or None,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except jinja2.TemplateError as ex:
            raise ModelError(f"The model's chat template rejected the conversation: {ex}") from ex


def tool_schemas(tools: list[ToolInfo]) -> list[dict[str, Any]]:
    """Tools in the OpenAI function format that chat templates expect."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters.model_dump(exclude_none=True),
            },
        }
        for tool in tools
    ]


def tool_instructions(schemas: list[dict[str, Any]]) -> str:
    """Our tool-use instructions, for templates that have none (same format as Qwen2.5's)."""
    listing = "\n".join(_dumps(schema) for schema in schemas)
    return (
        "# Tools\n\n"
        "You can call the tools below to do the task. Each is described by a JSON schema:\n"
        f"<tools>\n{listing}\n</tools>\n\n"
        "To call a tool, write a JSON object with the tool's name and arguments inside "
        "<tool_call></tool_call> tags, one block per call:\n"
        '<tool_call>\n{"name": "<tool name>", "arguments": {<arguments as JSON>}}\n</tool_call>\n'
        "Each result comes back inside <tool_response></tool_response> tags."
    )


def _native_message(message: ChatMessage) -> dict[str, Any]:
    """A message as templates with tool support expect it (OpenAI / transformers shape)."""
    if isinstance(message, ChatMessageAssistant):
        rendered: dict[str, Any] = {"role": "assistant", "content": message.text}
        if message.tool_calls:
            rendered["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        return rendered
    if isinstance(message, ChatMessageTool):
        return {
            "role": "tool",
            "content": _tool_result(message),
            "name": message.function,
            "tool_call_id": message.tool_call_id,
        }
    return {"role": message.role, "content": message.text}


def _inline_tool_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages for templates without tool support: calls and results written as text.

    Consecutive tool results become one user message, as Qwen2.5's template does.
    """
    rendered: list[dict[str, Any]] = []
    previous_was_tool = False
    for message in messages:
        if isinstance(message, ChatMessageTool):
            block = f"<tool_response>\n{_tool_result(message)}\n</tool_response>"
            if previous_was_tool:
                rendered[-1]["content"] += "\n" + block
            else:
                rendered.append({"role": "user", "content": block})
            previous_was_tool = True
            continue
        previous_was_tool = False
        content = message.text
        if isinstance(message, ChatMessageAssistant) and message.tool_calls:
            calls = "\n".join(_call_text(call) for call in message.tool_calls)
            content = f"{content}\n{calls}" if content else calls
        rendered.append({"role": message.role, "content": content})
    return rendered


def _defused(value: Any, markers: re.Pattern[str]) -> Any:
    """`value` with every written-out special token in its text broken by a zero-width space.

    Message text reaches the tokenizer as plain text: a tool result that spells
    `<|im_end|><|im_start|>system` must not become a real system turn.
    """
    if isinstance(value, str):
        return markers.sub(lambda match: match.group()[0] + "\u200b" + match.group()[1:], value)
    if isinstance(value, list):
        return [_defused(item, markers) for item in value]
    if isinstance(value, dict):
        return {key: _defused(item, markers) for key, item in value.items()}
    return value


def _with_system_text(messages: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    if messages and messages[0]["role"] == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{text}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]


def _call_text(call: ToolCall) -> str:
    return (
        f"<tool_call>\n{_dumps({'name': call.function, 'arguments': call.arguments})}\n</tool_call>"
    )


def _tool_result(message: ChatMessageTool) -> str:
    # The same wording Inspect's own chat providers use for failed calls.
    return f"Error: {message.error.message}" if message.error else message.text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _environment() -> ImmutableSandboxedEnvironment:
    """The Jinja2 environment `transformers` renders chat templates in."""

    def raise_exception(message: str) -> None:
        raise jinja2.TemplateError(message)

    def tojson(
        value: Any,
        ensure_ascii: bool = False,
        indent: int | None = None,
        separators: tuple[str, str] | None = None,
        sort_keys: bool = False,
    ) -> str:
        # Jinja's own `tojson` HTML-escapes `<`, `>` and `&`, which the model never saw.
        return json.dumps(
            value,
            ensure_ascii=ensure_ascii,
            indent=indent,
            separators=separators,
            sort_keys=sort_keys,
        )

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = strftime_now
    return environment
