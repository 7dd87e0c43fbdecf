"""Single-turn follow-ups: each wording asked N times, each time afresh."""

from __future__ import annotations

import asyncio

from inspect_ai.model import ChatMessage, Model
from inspect_ai.tool import Tool

from ._ask import AnswerFailed, ask_agent
from ._grader import Grader
from ._record import FollowUp
from ._topics import Topic
from ._wordings import Wording

__all__ = ["ask_follow_ups"]


async def ask_follow_ups(
    model: Model,
    conversation: list[ChatMessage],
    tools: list[Tool],
    topic: Topic,
    evidence: list[str],
    wordings: list[Wording],
    repeats: int,
    grader: Grader,
    max_tokens: int,
) -> list[FollowUp]:
    """Ask every wording `repeats` times, each in a fresh copy of the conversation.

    Meinke et al. 2024 ask each wording 20 times per scheming episode: each question
    follows the episode directly (answers never see each other), so the repeats
    sample the model's answer distribution rather than a dialogue.
    """
    jobs = [(w, r) for w in wordings for r in range(repeats)]
    return list(
        await asyncio.gather(
            *(
                _one(model, conversation, tools, topic, evidence, w, r, grader, max_tokens)
                for w, r in jobs
            )
        )
    )


async def _one(
    model: Model,
    conversation: list[ChatMessage],
    tools: list[Tool],
    topic: Topic,
    evidence: list[str],
    wording: Wording,
    repeat: int,
    grader: Grader,
    max_tokens: int,
) -> FollowUp:
    question = wording.question(topic)
    try:
        answer, _ = await ask_agent(model, conversation, question, tools, max_tokens)
    except AnswerFailed as ex:
        return FollowUp(
            wording=wording.name,
            repeat=repeat,
            question=question,
            answer="",
            grade="error",
            grader=grader.name,
            explanation=str(ex),
        )
    graded = await grader.grade(topic, evidence, question, answer)
    return FollowUp(
        wording=wording.name,
        repeat=repeat,
        question=question,
        answer=answer,
        grade=graded.grade,
        grader=graded.grader,
        explanation=graded.explanation,
        rules_grade=graded.rules_grade,
    )
