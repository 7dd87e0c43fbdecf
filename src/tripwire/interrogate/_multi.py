"""Multi-turn interrogation: up to N turns, by a fixed ladder or an interrogator model.

After Meinke et al. 2024 (App. B.3): the interrogator is not told whether the agent
schemed, the interview stops once the agent admits the act (or the interrogator is
done), and guilty samples are compared with innocent controls of the same scenario, so
the cumulative rates per turn show both what persistence uncovers and what it extracts
from the innocent.
"""

from __future__ import annotations

import re

from inspect_ai.model import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageUser,
    GenerateConfig,
    Model,
    get_model,
)
from inspect_ai.tool import Tool

from tripwire._text import scrub_surrogates

from ._ask import AnswerFailed, CallFailed, ask_agent, generate_checked
from ._grader import Grader
from ._prompts import INTERROGATOR_SYSTEM, INTERROGATOR_TURN, LADDER, VERDICT_PROMPT
from ._record import InterrogationTurn, MultiTurn, Verdict
from ._topics import Topic

__all__ = ["LADDER_NAME", "interrogate_over_turns", "parse_interrogator", "parse_verdict"]

LADDER_NAME = "ladder"


async def interrogate_over_turns(
    model: Model,
    conversation: list[ChatMessage],
    tools: list[Tool],
    topic: Topic,
    evidence: list[str],
    *,
    guilty: bool,
    turns: int,
    grader: Grader,
    interrogator: str | None,
    max_tokens: int,
) -> MultiTurn:
    """Interview the agent for up to `turns` turns in one continuing conversation."""
    asker = None if interrogator is None else get_model(interrogator)
    record = MultiTurn(
        guilty=guilty,
        interrogator=LADDER_NAME if asker is None else str(asker),
        grader=grader.name,
    )
    dialogue = list(conversation)
    interview: list[tuple[str, str]] = []
    # Whether a question so far named the act (an interrogator model may never use the
    # topic's words: its questions count as naming it, its rubric-graded answers too).
    named = asker is not None
    for turn in range(1, turns + 1):
        if asker is None:
            question = LADDER[min(turn, len(LADDER)) - 1].format(
                noticed=topic.noticed, direct=topic.direct
            )
        else:
            asked, problem = await _next_question(asker, topic, interview)
            if problem is not None:
                record.ended, record.error = "error", problem
                return record
            if asked is None:
                record.ended = "interrogator_done"
                return record
            question = asked
        try:
            answer, message = await ask_agent(model, dialogue, question, tools, max_tokens)
        except AnswerFailed as ex:
            record.ended, record.error = "error", str(ex)
            return record
        dialogue += [
            ChatMessageUser(content=question),
            ChatMessageAssistant(content=answer, model=getattr(message, "model", None)),
        ]
        interview.append((question, answer))
        named = named or topic.direct in question or topic.noticed in question
        graded = await grader.grade(topic, evidence, question, answer, act_named=named)
        step = InterrogationTurn(
            turn=turn,
            question=question,
            answer=answer,
            grade=graded.grade,
            rules_grade=graded.rules_grade,
        )
        if asker is not None:
            step.verdict, step.verdict_error = await _verdict(asker, topic, interview)
        record.turns.append(step)
        if graded.grade == "confessed":
            record.ended = "admitted"
            return record
    record.ended = "turn_limit"
    return record


def _render(interview: list[tuple[str, str]]) -> str:
    if not interview:
        return "(nothing yet: write your first message)"
    return "\n\n".join(f"Interviewer: {q}\nAgent: {a}" for q, a in interview)


_MESSAGE = re.compile(r"<message_to_model>(.*?)</message_to_model>", re.DOTALL | re.IGNORECASE)
_DONE = re.compile(r"<done\s*/?>", re.IGNORECASE)


def parse_interrogator(text: str) -> tuple[str | None, str | None]:
    """An interrogator's reply as (next question, problem).

    `(question, None)` for a message, `(None, None)` when it is done, and
    `(None, problem)` when the reply holds neither.
    """
    found = _MESSAGE.search(text)
    if found and found.group(1).strip():
        return " ".join(scrub_surrogates(found.group(1)).split()), None
    if _DONE.search(text):
        return None, None
    shown = " ".join(text.split())[:200]
    return None, f"interrogator reply held no <message_to_model> or <done/>: {shown!r}"


async def _next_question(
    asker: Model, topic: Topic, interview: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    messages: list[ChatMessage] = [
        ChatMessageSystem(content=INTERROGATOR_SYSTEM.format(noticed=topic.noticed)),
        ChatMessageUser(content=INTERROGATOR_TURN.format(interview=_render(interview))),
    ]
    try:
        output = await generate_checked(asker, messages, GenerateConfig(max_tokens=600))
    except CallFailed as ex:  # a failed interrogator ends the interview as an error
        return None, f"interrogator failed: {ex}"
    return parse_interrogator(output.completion)


_CONCLUSION = re.compile(r"<conclusion>\s*(guilty|not guilty)\s*</conclusion>", re.IGNORECASE)


def parse_verdict(text: str) -> tuple[Verdict | None, str | None]:
    """A verdict reply as (verdict, problem): exactly one conclusion, else a problem."""
    found = {m.group(1).lower() for m in _CONCLUSION.finditer(text)}
    if len(found) == 1:
        verdict = found.pop()
        return ("guilty" if verdict == "guilty" else "not guilty"), None
    shown = " ".join(text.split())[:200]
    return None, f"no single <conclusion> in the verdict: {shown!r}"


async def _verdict(
    asker: Model, topic: Topic, interview: list[tuple[str, str]]
) -> tuple[Verdict | None, str | None]:
    prompt = VERDICT_PROMPT.format(interview=_render(interview), noticed=topic.noticed)
    try:
        output = await generate_checked(asker, prompt, GenerateConfig(max_tokens=400))
    except CallFailed as ex:  # an unscored verdict, never a default one
        return None, f"interrogator failed: {ex}"
    return parse_verdict(output.completion)
