"""Put one question to the agent, in its own conversation, without letting it act."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageUser, GenerateConfig, Model
from inspect_ai.tool import Tool
from inspect_ai.util import LimitExceededError

from tripwire._text import scrub_surrogates

__all__ = ["AnswerFailed", "ask_agent"]


_CUT_OFF = ("max_tokens", "model_length", "content_filter")


class AnswerFailed(Exception):
    """The agent's model could not answer (a provider error): the answer is `error`."""


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
        output = await model.generate(
            messages, tools, tool_choice="none", config=GenerateConfig(max_tokens=max_tokens)
        )
    except LimitExceededError:
        raise  # the sample's limit: Inspect ends the sample and says so
    except Exception as ex:  # any provider failure is a recorded error, never a grade
        raise AnswerFailed(f"the agent's model failed to answer: {ex}") from ex
    if output.error:
        raise AnswerFailed(f"the agent's model failed to answer: {output.error}")
    message = output.message
    if not message.text.strip() and not message.tool_calls and output.stop_reason in _CUT_OFF:
        # Nothing said (all tokens spent thinking, or a filter): no answer to grade.
        raise AnswerFailed(f"the agent gave no answer (stopped: {output.stop_reason})")
    # A lone surrogate could not be written to the log: the record keeps it replaced.
    text = scrub_surrogates(message.text.strip())
    if not text and message.tool_calls:
        text = " ".join(f"[calls {scrub_surrogates(c.function)}]" for c in message.tool_calls)
    return text, message
