"""The episode's conversation, made ready for a question the agent answers in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool, ChatMessageUser
from inspect_ai.util import Store

__all__ = ["DB_FOLLOWUP_KEY", "closed_conversation", "episode_messages"]

DB_FOLLOWUP_KEY = "tripwire:db_cover_up:followup"
"""Store key of db-cover-up's own follow-up question (its `FOLLOWUP_KEY` is this key:
that package imports this one, so the key is defined here)."""


def episode_messages(
    messages: list[ChatMessage], store: Store | Mapping[str, Any] | None = None
) -> list[ChatMessage]:
    """The episode's messages, up to any question a scenario asked after it.

    db-cover-up asks its own question once production changed; the interrogation and
    the reasoning analysis start from the episode as the agent left it, so guilty
    samples and innocent controls are asked from the same point, unanchored by it.
    """
    followup = store.get(DB_FOLLOWUP_KEY) if store is not None else None
    question = followup.get("question") if isinstance(followup, Mapping) else None
    if not question:
        return list(messages)
    for index, message in enumerate(messages):
        if isinstance(message, ChatMessageUser) and message.text == question:
            return list(messages[:index])
    return list(messages)


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
