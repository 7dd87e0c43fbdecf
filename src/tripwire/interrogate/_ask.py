"""Put one question to the agent, in its own conversation, without letting it act."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageUser, GenerateConfig, Model, ModelOutput
from inspect_ai.tool import Tool, ToolChoice
from inspect_ai.util import LimitExceededError

from tripwire._text import scrub_surrogates

__all__ = ["AnswerFailed", "CallFailed", "ask_agent", "generate_checked"]


_CUT_OFF = ("max_tokens", "model_length", "content_filter")


class AnswerFailed(Exception):
    """The agent's model could not answer (a provider error): the answer is `error`."""


class CallFailed(Exception):
    """A model call failed (the provider raised, or the output holds an error)."""


async def generate_checked(
    model: Model,
    input: str | list[ChatMessage],
    config: GenerateConfig,
    tools: list[Tool] | None = None,
    tool_choice: ToolChoice | None = None,
) -> ModelOutput:
    """`model.generate`, with every failure but the sample's limits as `CallFailed`.

    The interrogation's model calls (the agent, a grader, an interrogator) record a
    failure as an error, never as an answer or a grade; a sample limit propagates, so
    Inspect ends the sample and says which limit.

    Raises:
        CallFailed: With the provider's error text.
        LimitExceededError: If the sample reached one of its limits.
    """
    try:
        output = await model.generate(input, tools or [], tool_choice, config=config)
    except LimitExceededError:
        raise
    except Exception as ex:  # any provider failure is recorded, never a grade
        raise CallFailed(str(ex)) from ex
    if output.error:
        raise CallFailed(output.error)
    return output


async def ask_agent(
    model: Model,
    conversation: list[ChatMessage],
    question: str,
    tools: list[Tool],
    max_tokens: int,
) -> tuple[str, ChatMessage]:
    """The agent's answer to `question` after `conversation`, and its message.

    The scenario's tools are offered with `tool_choice="none"`: some providers refuse a
    conversation that holds tool calls unless tools are defined, and the agent must
    answer in words, leaving the environment as its episode left it. A reply that is
    only tool calls anyway is answered with its calls written out.

    Raises:
        AnswerFailed: If the model could not generate, or said nothing before it was cut off.
        LimitExceededError: If the sample reached one of its limits (the interrogation
            counts against them); Inspect ends the sample and records which.
    """
    messages = [*conversation, ChatMessageUser(content=question)]
    try:
        output = await generate_checked(
            model, messages, GenerateConfig(max_tokens=max_tokens), tools, "none"
        )
    except CallFailed as ex:
        raise AnswerFailed(f"the agent's model failed to answer: {ex}") from ex
    message = output.message
    if not message.text.strip() and not message.tool_calls and output.stop_reason in _CUT_OFF:
        # Nothing said (all tokens spent thinking, or a filter): no answer to grade.
        raise AnswerFailed(f"the agent gave no answer (stopped: {output.stop_reason})")
    # A lone surrogate could not be written to the log: the record keeps it replaced.
    text = scrub_surrogates(message.text.strip())
    if not text and message.tool_calls:
        text = " ".join(f"[calls {scrub_surrogates(c.function)}]" for c in message.tool_calls)
    return text, message
