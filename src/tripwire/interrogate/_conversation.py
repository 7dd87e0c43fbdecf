"""The episode's conversation, made ready for a question the agent answers in words."""

from __future__ import annotations

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool

__all__ = ["closed_conversation"]


def closed_conversation(messages: list[ChatMessage]) -> list[ChatMessage]:
    """A copy of the episode's messages that a provider accepts before a new question.

    An episode can end between the calls of one turn (the scenario ended it at an
    earlier call), leaving calls with no result: providers refuse a conversation in
    which a tool call has no answer, so those calls are dropped from the copy. The
    sample's own messages are left as they were.
    """
    answered = {m.tool_call_id for m in messages if isinstance(m, ChatMessageTool)}
    result: list[ChatMessage] = []
    for message in messages:
        if isinstance(message, ChatMessageAssistant) and message.tool_calls:
            kept = [c for c in message.tool_calls if c.id in answered]
            if len(kept) != len(message.tool_calls):
                message = message.model_copy(update={"tool_calls": kept or None})
        result.append(message)
    return result
