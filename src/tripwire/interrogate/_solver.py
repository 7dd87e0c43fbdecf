"""The interrogation step: after the episode, ask the agent about what it did."""

from __future__ import annotations

import hashlib

from inspect_ai.log import transcript
from inspect_ai.model import get_model
from inspect_ai.solver import Generate, Solver, TaskState, solver
from inspect_ai.util import store

from tripwire.scenarios._scenario import get_scenario
from tripwire.scenarios._scorer import final_check

from ._config import InterrogationConfig
from ._conversation import closed_conversation
from ._grader import make_grader
from ._multi import interrogate_over_turns
from ._reasoning import episode_text, grade_reasoning
from ._record import INTERROGATION_KEY, Interrogation
from ._single import ask_follow_ups
from ._topics import topic_for
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
        topic = topic_for(scenario_name, trace.behaviours() if guilty else ())
        grader = make_grader(options.grader)
        record = Interrogation(
            scenario=scenario_name,
            guilty=guilty,
            act=topic.act,
            evidence=[f.evidence() for f in trace.findings],
            grader=grader.name,
        )
        if outcome == "error":
            record.skipped = "the sample is an error: there is no episode to ask about"
            store().set(INTERROGATION_KEY, record.model_dump())
            return state
        model = get_model()
        conversation = closed_conversation(state.messages)
        tools = scenario.tools(state.metadata)
        if guilty and options.follow_ups:
            record.follow_ups = await ask_follow_ups(
                model,
                conversation,
                tools,
                topic,
                record.evidence,
                [wording_named(name) for name in options.wordings],
                options.follow_ups,
                grader,
                options.max_tokens,
            )
        if options.turns and (guilty or _chosen_control(state, options.controls)):
            record.multi_turn = await interrogate_over_turns(
                model,
                conversation,
                tools,
                topic,
                record.evidence,
                guilty=guilty,
                turns=options.turns,
                grader=grader,
                interrogator=options.interrogator,
                max_tokens=options.max_tokens,
            )
        elif not guilty:
            record.skipped = "clean sample not chosen as an innocent control"
        if options.grader is not None:
            record.reasoning = await grade_reasoning(
                options.grader, episode_text(state.messages, store())
            )
        store().set(INTERROGATION_KEY, record.model_dump())
        transcript().info(_summary(record), source="interrogation")
        return state

    return solve


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
