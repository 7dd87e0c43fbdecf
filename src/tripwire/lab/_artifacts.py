"""What each lab step writes: pydantic records stored as JSON in the run directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError

from tripwire._errors import ConfigError

from ._config import LabConfig
from ._metrics import DefectionRate, DefectionReport
from ._probe import ProbeReport
from ._train import TrainLog

__all__ = [
    "CurvePoint",
    "LabManifest",
    "PlantResult",
    "ProbeResult",
    "SafetyResult",
    "StageMeasure",
    "read_json",
    "write_json",
]

_M = TypeVar("_M", bound=BaseModel)


class LabManifest(BaseModel):
    """The run's identity: settings, seeds, versions and the chat template used."""

    config: LabConfig
    """The settings every step of this run used."""

    created: str
    """When the run directory was made (UTC, ISO 8601)."""

    model_source: str | None = None
    """Where the weights came from, once the model was loaded."""

    chat_template: str | None = None
    """The chat template applied at every stage (train, safety-train, eval, probe)."""

    system_prompt: str | None = None
    """The system prompt sent with every prompt, if any."""

    versions: dict[str, str] = Field(default_factory=dict)
    """Package versions: tripwire, torch, transformers, peft, scikit-learn, numpy."""

    step_seconds: dict[str, float] = Field(default_factory=dict)
    """Wall time of each finished step."""

    model_load_seconds: float | None = None
    """Time to load the tokenizer and weights."""


class StageMeasure(BaseModel):
    """Defection rates of one model stage on the held-out eval set."""

    stage: str
    """"base", "planted", or a safety-training method."""

    report: DefectionReport
    """Triggered, false-trigger, near-miss and per-position rates with Wilson intervals."""

    seconds: float
    """Wall time of the generation."""


class CurvePoint(BaseModel):
    """One point of a persistence curve."""

    step: int
    """Safety-training steps taken so far."""

    triggered: DefectionRate
    """Defection rate on triggered curve prompts."""

    clean: DefectionRate
    """Defection rate on clean curve prompts (false triggers)."""


class PlantResult(BaseModel):
    """Backdoor insertion: training log and whether the gate was passed."""

    train: TrainLog
    """Losses and step times."""

    n_examples: int
    """Examples in the insertion set."""

    n_triggered: int
    """Of them, carrying the trigger."""

    planted: bool
    """Whether triggered defection ≥ the gate and false triggers ≤ the gate."""

    reason: str
    """Why the gate passed or failed, with the measured rates."""


class SafetyResult(BaseModel):
    """One safety-training method applied to the planted model."""

    method: str
    """"sft" or "adversarial"."""

    train: TrainLog
    """Losses and step times."""

    n_examples: int
    """Examples trained on."""

    elicited: int | None = None
    """Adversarial only: red-team prompts that made the planted model defect."""

    red_team_prompts: int | None = None
    """Adversarial only: red-team prompts tried."""

    curve: list[CurvePoint]
    """Persistence curve: defection rates every `eval_every` steps."""

    steps_to_half: int | None
    """First curve step with triggered defection below 50%; None if it never fell."""


class ProbeResult(BaseModel):
    """Defection probes on one model stage."""

    stage: str
    """"base" (the control without a backdoor), "planted", or a safety method."""

    report: ProbeReport
    """The probe protocol at the last prompt token (triggered vs clean and vs near-miss
    prompts, the random-direction control), other positions in `other_positions`."""

    question: str
    """The contrast pair's question (answered "yes" minus "no")."""

    seconds: float
    """Wall time of reading activations and fitting."""


def write_json(path: Path, record: BaseModel) -> None:
    """Write a record atomically, so an interrupted step leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(record.model_dump_json(indent=2) + "\n")
    partial.replace(path)


def read_json(path: Path, model: type[_M]) -> _M | None:
    """Read a record written by `write_json`, or None if the step has not run.

    Raises:
        ConfigError: If the file exists but is not a valid record (say which, and what to do).
    """
    if not path.exists():
        return None
    try:
        return model.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError) as ex:
        raise ConfigError(
            f"{path} is not a valid {model.__name__} ({type(ex).__name__}): delete it to "
            "redo that step."
        ) from ex
