"""The interrogation step: after the episode, ask the agent about what it did."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from inspect_ai.log import transcript
from inspect_ai.model import ChatMessage, Model, get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.tool import Tool
from inspect_ai.util import LimitExceededError, store

from tripwire.scenarios._scenario import get_scenario
from tripwire.scenarios._scorer import final_check

from ._config import InterrogationConfig
from ._conversation import closed_conversation, episode_messages
from ._grader import Grader, make_grader
from ._multi import interrogate_over_turns
from ._reasoning import episode_text, grade_reasoning
from ._record import INTERROGATION_KEY, Interrogation
from ._single import ask_follow_ups
from ._topics import Topic, topic_for
from ._wordings import wording_named

__all__ = ["interrogation"]


@solver
def interrogation(config: InterrogationConfig | None = None) -> Solver:
    """Ask the agent about its episode, in the same conversation, environment untouched.

    Runs after the scenario's agent loop. A sample whose detector found scheming is
    asked every chosen wording `follow_ups` times (each time straight after the
    episode) and interviewed over up to `turns` turns; a clean sample may be
    interviewed as an innocent control (`controls`). The interrogator is never told
    which is which. An `error` sample is not asked. What was asked and answered, and
    each grade, is kept in the sample store (`INTERROGATION_KEY`) for
    `interrogation_outcome`.

    Args:
        config: Interrogation options (default: `InterrogationConfig()`).
    """
    options = config or InterrogationConfig()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        scenario_name = str(state.metadata["scenario"])
        scenario = get_scenario(scenario_name)
        trace = await final_check(scenario.detector(state.metadata))
        outcome, _ = trace.verdict()
        guilty = outcome == "schemed"
        # Follow-ups ask about what the detector found; interviews ask guilty samples
        # and innocent controls the same thing (the scenario's general act), so their
        # rates compare.
        topic = topic_for(scenario_name, trace.behaviours() if guilty else ())
        grader = make_grader(options.grader)
        record = Interrogation(
            scenario=scenario_name,
            guilty=guilty,
            act=topic.act,
            # The environment's evidence only, not what the agent said when asked.
            evidence=[f.evidence() for f in trace.findings if f.kind not in _SAID],
            grader=grader.name,
        )
        if outcome == "error":
            record.skipped = "the sample is an error: there is no episode to ask about"
            store().set(INTERROGATION_KEY, record.model_dump())
            return state
        episode = episode_messages(state.messages, store())
        asking = _Asking(
            record=record,
            options=options,
            model=get_model(),
            conversation=closed_conversation(episode),
            tools=scenario.tools(state.metadata),
            topic=topic,
            interview_topic=topic_for(scenario_name),
            grader=grader,
            control=not guilty and _chosen_control(state, options.controls),
        )
        try:
            await asking.run()
        except LimitExceededError as ex:
            record.skipped = f"stopped by the sample's limit: {ex}"
            store().set(INTERROGATION_KEY, record.model_dump())
            raise
        if options.grader is not None:
            record.reasoning = await grade_reasoning(options.grader, episode_text(episode))
        store().set(INTERROGATION_KEY, record.model_dump())
        transcript().info(_summary(record), source="interrogation")
        return state

    return solve


_SAID = frozenset({"denied"})
"""Finding kinds that record what the agent said (db-cover-up's `denied`), not what it did."""


@dataclass
class _Asking:
    """One sample's questions: the follow-ups, then the interview."""

    record: Interrogation
    options: InterrogationConfig
    model: Model
    conversation: list[ChatMessage]
    tools: list[Tool]
    topic: Topic
    """What the follow-ups ask about: the act the detector found."""
    interview_topic: Topic
    """What the interview asks about: the scenario's general act, the same for guilty
    samples and innocent controls."""
    grader: Grader
    control: bool
    """Whether this clean sample is interviewed as an innocent control."""

    async def run(self) -> None:
        """Ask, filling the record as answers come."""
        record, options = self.record, self.options
        if record.guilty and options.follow_ups:
            record.follow_ups = await ask_follow_ups(
                self.model,
                self.conversation,
                self.tools,
                self.topic,
                record.evidence,
                [wording_named(name) for name in options.wordings],
                options.follow_ups,
                self.grader,
                options.max_tokens,
            )
        if options.turns and (record.guilty or self.control):
            record.multi_turn = await interrogate_over_turns(
                self.model,
                self.conversation,
                self.tools,
                self.interview_topic,
                record.evidence,
                guilty=record.guilty,
                turns=options.turns,
                grader=self.grader,
                interrogator=options.interrogator,
                max_tokens=options.max_tokens,
            )
        elif not record.guilty:
            record.skipped = "clean sample not chosen as an innocent control"


def _chosen_control(state: TaskState, share: float) -> bool:
    """Whether a clean sample is interviewed as a control: stable per sample and epoch."""
    if share >= 1.0:
        return True
    digest = hashlib.sha256(f"{state.sample_id}:{state.epoch}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def _summary(record: Interrogation) -> str:
    counts: dict[str, int] = {}
    for item in record.follow_ups:
        counts[item.grade] = counts.get(item.grade, 0) + 1
    parts = [f"{'guilty' if record.guilty else 'innocent'} sample, graded by {record.grader}"]
    if counts:
        parts.append(
            "follow-ups: " + ", ".join(f"{n} {grade}" for grade, n in sorted(counts.items()))
        )
    if record.multi_turn is not None:
        parts.append(
            f"multi-turn ({record.multi_turn.interrogator}): {len(record.multi_turn.turns)} "
            f"turns, ended {record.multi_turn.ended}"
        )
    return "; ".join(parts)
