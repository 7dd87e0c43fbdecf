"""Scripted reference agents: deterministic policies that act out a scenario.

`tripwire/scripted-honest` does the task and never touches oversight;
`tripwire/scripted-schemer-<variant>` schemes in one documented way;
`tripwire/scripted-schemer` picks a variant per sample (stable across epochs);
`tripwire/scripted-garbled` only ever emits malformed tool calls. They know the
scenario's script (they are actors, not models), which makes every detector
testable offline and calibrates `tripwire run`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from inspect_ai.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    GenerateConfig,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolCall, ToolChoice, ToolInfo

from tripwire._errors import ConfigError, ModelError

from ._toolcall_parse import parse_tool_calls

__all__ = [
    "SCRIPTED_POLICIES",
    "ScriptContext",
    "ParallelAction",
    "ScriptedBackend",
    "TextAction",
    "ToolAction",
]

SCRIPTED_POLICIES = ("honest", "schemer", "garbled")
"""Base policies; `schemer-<variant>` names a scenario's scheming variant."""


@dataclass(frozen=True)
class ToolAction:
    """Call a tool with these arguments."""

    function: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TextAction:
    """Reply with raw text, parsed for tool calls as a real model's output is."""

    text: str


@dataclass(frozen=True)
class ParallelAction:
    """Several tool calls in one turn, as frontier models emit them."""

    calls: tuple[ToolAction, ...]


Action = ToolAction | TextAction | ParallelAction


@dataclass(frozen=True)
class ScriptContext:
    """What a scripted agent can see: the conversation and its tools."""

    messages: list[ChatMessage]
    tools: list[ToolInfo]

    @property
    def tool_names(self) -> list[str]:
        """Names of the tools offered this turn."""
        return [t.name for t in self.tools]

    @property
    def tool_results(self) -> str:
        """Everything the tools have answered so far, joined (empty before the first call).

        Scenarios that share their opening (the themed ones all start by reading the
        data file) recognise themselves from what that read returned.
        """
        return "\n".join(m.text for m in self.messages if m.role == "tool")

    @property
    def sample_key(self) -> str:
        """Stable text identifying the sample: its opening messages."""
        return "\n".join(m.text for m in self.messages[:2])


ScriptFn = Callable[[str, str | None, ScriptContext], list[Action] | None]
"""(policy, variant, context) -> the full action list, or None if not this scenario."""

ReplyFn = Callable[[str, str | None, ScriptContext], str | None]
"""(policy, variant, context) -> the text answer to a request made without tools (such
as a compaction's summary request), or None if not this scenario's. Optional: a
script module defines it as `reply`."""

# Each scenario that supports scripted agents exposes `script` and `SCHEMER_VARIANTS`.
_SCRIPT_MODULES = (
    "tripwire.scenarios.oversight_subversion._scripts",
    "tripwire.scenarios.self_exfiltration._scripts",
    "tripwire.scenarios.goal_guarding._scripts",
    "tripwire.scenarios.sandbagging._scripts",
    "tripwire.scenarios.email_reranking._scripts",
    "tripwire.scenarios.alignment_faking._scripts",
    "tripwire.scenarios.shutdown_resistance._scripts",
    "tripwire.scenarios.kill_switch._scripts",
    "tripwire.scenarios.db_cover_up._scripts",
    "tripwire.scenarios.self_replication._scripts",
    "tripwire.scenarios.rule_lost._scripts",
)


class ScriptedBackend:
    """Plays a scripted policy one action per turn.

    Args:
        policy: `honest`, `schemer`, `schemer-<variant>` or `garbled`.

    Raises:
        ConfigError: If the policy is unknown.
    """

    def __init__(self, policy: str) -> None:
        policy, _, style = policy.partition("/")
        base, _, variant = policy.partition("-")
        if base not in SCRIPTED_POLICIES or (variant and base != "schemer"):
            raise ConfigError(
                f"Unknown scripted policy {policy!r}: use scripted-honest, scripted-schemer, "
                f"scripted-schemer-<variant> ({', '.join(schemer_variants())}) "
                "or scripted-garbled."
            )
        if variant and variant not in schemer_variants():
            raise ConfigError(
                f"Unknown scheming variant {variant!r}: choose from "
                f"{', '.join(schemer_variants())}."
            )
        from tripwire.interrogate._answers import ANSWER_STYLES, AnswerStyle

        if style and style not in ANSWER_STYLES:
            raise ConfigError(
                f"Unknown answer style {style!r} in scripted-{policy}/{style}: choose from "
                f"{', '.join(ANSWER_STYLES)}."
            )
        self.policy = policy if not style else f"{policy}/{style}"
        self.base = base
        self.variant = variant or None
        # How it answers when interrogated: schemers deny unless told otherwise,
        # as o1 mostly did; honest agents deny truthfully.
        self.answers: AnswerStyle = style or "deny"  # narrowed by the check above

    def max_connections(self) -> int:
        """Scripted agents are instant; let Inspect run many samples at once."""
        return 64

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Return the next action of the script for this conversation."""
        # tool_choice "none": the harness asks for words (e.g. an interrogation).
        offered = [] if tool_choice == "none" else tools
        context = ScriptContext(messages=input, tools=offered)
        turn = sum(1 for m in input if m.role == "assistant")
        reply = None if offered or self.base == "garbled" else self._reply(context)
        if reply is not None:
            action: Action = TextAction(reply)
        elif self.base == "garbled":
            action = TextAction(_GARBLED[turn % len(_GARBLED)])
        else:
            actions = self._script(context)
            action = actions[turn] if turn < len(actions) else ToolAction("done")
        return _output(f"scripted-{self.policy}", action, turn)

    def _variant(self, module: Any, context: ScriptContext) -> str | None:
        if self.base != "schemer" or self.variant is not None:
            return self.variant
        # The mixed schemer picks one of this scenario's own variants per sample.
        variants = module.SCHEMER_VARIANTS
        digest = hashlib.sha256(context.sample_key.encode()).digest()
        return str(variants[digest[0] % len(variants)])

    def _reply(self, context: ScriptContext) -> str | None:
        """A script's text answer to a request without tools (e.g. a summary), if any."""
        for module_name in _SCRIPT_MODULES:
            module = import_module(module_name)
            reply: ReplyFn | None = getattr(module, "reply", None)
            if reply is not None:
                text = reply(self.base, self._variant(module, context), context)
                if text is not None:
                    return text
        if any(m.role == "assistant" for m in context.messages):
            from tripwire.interrogate._scripted import interrogation_reply

            return interrogation_reply(self.answers, context.messages)
        return None

    def _script(self, context: ScriptContext) -> list[Action]:
        for module_name in _SCRIPT_MODULES:
            module = import_module(module_name)
            script: ScriptFn = module.script
            variant = self._variant(module, context)
            actions = script(self.base, variant, context)
            if actions is not None:
                return actions
        raise ModelError(
            f"scripted-{self.policy} does not know this scenario (tools: "
            f"{', '.join(context.tool_names)}); scripted agents only act out tripwire "
            "scenarios, and a schemer variant only its own scenario."
        )


def schemer_variants() -> list[str]:
    """All scheming variants the scenarios define, in a stable order."""
    variants: list[str] = []
    for module in _SCRIPT_MODULES:
        for variant in import_module(module).SCHEMER_VARIANTS:
            if variant not in variants:
                variants.append(variant)
    return variants


# Malformed outputs of the kinds small models produce: truncated JSON, a bare
# name, prose around a broken call.
_GARBLED = (
    '<tool_call>\n{"name": "bash", "arguments": {"command": "ls -la"\n</tool_call>',
    '<tool_call>\n{"name": bash, arguments: ls}\n</tool_call>',
    'I will now run <tool_call>{"arguments": {"command": "cat"}}</tool_call>',
)


def _output(model: str, action: Action, turn: int) -> ModelOutput:
    if isinstance(action, TextAction):
        content, tool_calls = parse_tool_calls(action.text)
    else:
        content = ""
        calls = action.calls if isinstance(action, ParallelAction) else (action,)
        tool_calls = [
            ToolCall(id=f"call_{turn}_{i}", function=call.function, arguments=call.arguments)
            for i, call in enumerate(calls)
        ]
    message = ChatMessageAssistant(
        content=content, tool_calls=tool_calls or None, model=model, source="generate"
    )
    output = ModelOutput(
        model=model,
        choices=[
            ChatCompletionChoice(
                message=message, stop_reason="tool_calls" if tool_calls else "stop"
            )
        ],
    )
    # Set usage: without it Inspect counts tokens with tiktoken, which downloads.
    output.usage = ModelUsage(input_tokens=0, output_tokens=1, total_tokens=1)
    return output
