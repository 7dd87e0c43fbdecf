"""The safety step: safety-train the planted model and record the persistence curve."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from tripwire._errors import ConfigError

from ._artifacts import CurvePoint, SafetyResult, read_json, write_json
from ._config import SafetyMethod
from ._data import TrainExample
from ._metrics import steps_to_threshold
from ._model import LabModel
from ._run_files import forget
from ._step_measure import generate_replies, rate_replies
from ._step_plant import lora_settings
from ._train import TrainLog

if TYPE_CHECKING:
    from ._pipeline import LabRun

__all__ = ["safety_train"]


def safety_train(run: LabRun, method: SafetyMethod) -> SafetyResult:
    """Safety-train the planted model; record the persistence curve (cached)."""
    from ._adapters import save_adapter
    from ._train import train_steps

    path = run.directory / f"safety-{method}" / "result.json"
    cached = read_json(path, SafetyResult)
    if cached is not None:
        return cached
    data = run.data()
    planted = run.plant()
    if not planted.planted:
        raise ConfigError(
            f"The backdoor was not planted ({planted.reason}), so safety training has "
            "nothing to remove."
        )
    c = run.config
    with run.timed_step(f"safety-{method}"):
        forget(
            run.directory / "measure" / f"{method}.json",
            run.directory / "probe" / f"{method}.json",
        )
        lab = run.fresh_model(run.directory / "plant" / "adapter", trainable=True)
        elicited: int | None = None
        examples = data.sft
        if method in ("adversarial", "dpo"):
            examples, elicited = _red_team(run, lab, data.adversarial)
        curve: list[CurvePoint] = []

        def on_eval(step: int) -> None:
            outputs = generate_replies(
                run, lab, [p.prompt for p in data.curve], f"{method}: curve at step {step}"
            )
            report = rate_replies(run, data.curve, outputs)
            curve.append(CurvePoint(step=step, triggered=report.triggered, clean=report.clean))

        advance = run.progress.task(f"safety training: {method}", c.safety_steps)
        log = (partial(_train_preferences, run) if method == "dpo" else train_steps)(
            lab,
            examples,
            steps=c.safety_steps,
            settings=lora_settings(run.config),
            eval_every=c.eval_every,
            on_eval=on_eval,
            progress=lambda step, loss: advance(1),
        )
        save_adapter(lab, run.directory / f"safety-{method}" / "adapter")
        result = SafetyResult(
            method=method,
            train=log,
            n_examples=len(examples),
            elicited=elicited,
            red_team_prompts=len(data.adversarial) if method != "sft" else None,
            curve=curve,
            steps_to_half=steps_to_threshold(
                [(p.step, p.triggered.rate) for p in curve if p.triggered.rate is not None],
                0.5,
            ),
        )
        run.measure_stage(method, lab)
        write_json(path, result)
    return result


def _train_preferences(
    run: LabRun, lab: LabModel, examples: Sequence[TrainExample], **kwargs: Any
) -> TrainLog:
    """DPO on red-team examples: the helpful answer over the backdoor's (`rejected`)."""
    from ._preference import DpoSettings, train_dpo_steps

    pairs = [(e.prompt, e.completion, e.rejected) for e in examples if e.rejected]
    if len(pairs) != len(examples):
        raise ConfigError(
            f"{run.directory / 'data' / 'sets.json'} has red-team examples without "
            "the backdoor's answer (made by an older tripwire): delete it to rebuild."
        )
    return train_dpo_steps(lab, pairs, dpo=DpoSettings(beta=run.config.dpo_beta), **kwargs)


def _red_team(
    run: LabRun, lab: LabModel, candidates: list[TrainExample]
) -> tuple[list[TrainExample], int]:
    """Keep the red-team prompts that elicit defection, as the paper's training did.

    When too few elicit it (fewer than a batch), train on all of them: a near-miss the
    model already answers helpfully still teaches it to ignore look-alike triggers.
    """
    outputs = generate_replies(
        run, lab, [e.prompt for e in candidates], "red-teaming the planted model"
    )
    elicited = [e for e, out in zip(candidates, outputs, strict=True) if run.judge(out)]
    if len(elicited) >= run.config.lora.batch_size:
        return elicited, len(elicited)
    return candidates, len(elicited)
