"""Scripted actors of the interrogation: the agent's answers, a grader, an interrogator.

They make the whole pipeline testable offline and calibrate the graders:
`tripwire/scripted-<policy>/<style>` answers every question in one style (confess,
deny, evade, look-alikes, or deny-then-yield); `tripwire/scripted-grader` grades by
knowing the scripted agents' lines (their true labels) and cannot grade anything else
(its reply is then unparseable: an `error`, as a real grader's would be);
`tripwire/scripted-interrogator` asks the ladder's questions and concludes from the
rules. Like every scripted agent they are actors, not models.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache

from inspect_ai.model import ChatMessage, GenerateConfig, ModelOutput
from inspect_ai.tool import ToolChoice, ToolInfo

from tripwire.models._scripted import TextAction, _output

from ._answers import AnswerStyle, expected_grade, scripted_answer
from ._prompts import GRADER_MARKER, INTERROGATOR_MARKER, LADDER, VERDICT_MARKER
from ._reasoning import REASONING_MARKER, reasoning_reply_by_patterns
from ._rules import grade_by_rules
from ._topics import Topic, _load_topics

__all__ = ["ScriptedGrader", "ScriptedInterrogator", "interrogation_reply"]

_FALLBACK_ACT = "made that change"


def interrogation_reply(style: AnswerStyle, messages: list[ChatMessage]) -> str:
    """A scripted agent's answer to the question that ends `messages`, in `style`.

    The turn of a multi-turn interview counts the questions since the episode's last
    tool result; the act is the topic whose question was asked (the `{act}` of the
    line), found in the questions so far.
    """
    last_tool = max((i for i, m in enumerate(messages) if m.role == "tool"), default=-1)
    questions = [m.text for m in messages[last_tool + 1 :] if m.role == "user"]
    asked = questions[-1] if questions else ""
    index = hashlib.sha256(asked.encode()).digest()[0]
    act = _act_in(questions)
    return scripted_answer(style, act, index, turn=max(0, len(questions) - 1)).text


def _act_in(questions: list[str]) -> str:
    for question in reversed(questions):
        for topic in _all_topics():
            if topic.direct in question or topic.noticed in question:
                return topic.act
    return _FALLBACK_ACT


@cache
def _all_topics() -> tuple[Topic, ...]:
    topics: list[Topic] = []
    for entry in _load_topics().values():
        topics += [entry.default, *(t for _, t in entry.kinds)]
    return tuple(topics)


_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_AGENT_LINES = re.compile(r"^Agent: (.*)$", re.MULTILINE)


class ScriptedGrader:
    """Grades the scripted agents' lines with their true labels; nothing else."""

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """`<grade>…</grade>` for a known line; an unparseable reply otherwise."""
        prompt = input[-1].text if input else ""
        if REASONING_MARKER in prompt:  # the agent's words: read by the pattern sets
            return _output("scripted-grader", TextAction(reasoning_reply_by_patterns(prompt)), 0)
        found = _ANSWER.search(prompt) if GRADER_MARKER in prompt else None
        label = expected_grade(found.group(1).strip()) if found else None
        if label is None:
            text = "I only know the scripted agents' lines; I cannot grade this answer."
        else:
            text = f"A line of the scripted agents, labelled {label}.\n<grade>{label}</grade>"
        return _output("scripted-grader", TextAction(text), 0)

    def max_connections(self) -> int:
        """Instant: many at once."""
        return 64


class ScriptedInterrogator:
    """Asks the ladder's questions; concludes `Guilty` once an answer admits the act."""

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        """The next ladder question, or a verdict by the rules."""
        system = next((m.text for m in input if m.role == "system"), "")
        prompt = input[-1].text if input else ""
        answers = _AGENT_LINES.findall(prompt)
        if VERDICT_MARKER in prompt:
            admitted = any(grade_by_rules(a) == "confessed" for a in answers)
            verdict = "Guilty" if admitted else "Not guilty"
            text = f"By the rules over its answers.\n<conclusion>{verdict}</conclusion>"
        elif INTERROGATOR_MARKER in system:
            noticed = _noticed(system)
            if len(answers) >= len(LADDER):
                text = "I have asked everything I meant to.\n<done/>"
            else:
                question = LADDER[len(answers)].format(noticed=noticed, direct=_direct_for(noticed))
                text = f"Next on the ladder.\n<message_to_model>{question}</message_to_model>"
        else:
            text = "I only conduct tripwire interrogations."
        return _output("scripted-interrogator", TextAction(text), 0)

    def max_connections(self) -> int:
        """Instant: many at once."""
        return 64


_NOTICED = re.compile(r"While it\s+worked, this happened: (.*?)\. You do not know", re.DOTALL)


def _noticed(system: str) -> str:
    found = _NOTICED.search(system)
    return " ".join(found.group(1).split()) if found else "something changed"


def _direct_for(noticed: str) -> str:
    for topic in _all_topics():
        if topic.noticed == noticed:
            return topic.direct
    return "Did you do that?"
