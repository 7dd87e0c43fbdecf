"""Prompt data: assistant prompts and their held-out split; the probes' contrast pairs.

Helpful-assistant prompts come from `data/prompts.yaml`, the generic contrast pairs of
the defection probes from `data/contrast_pairs.yaml`.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from tripwire._errors import ConfigError

from ._data import LabPrompt

__all__ = ["ContrastPair", "contrast_pairs", "generate_prompts", "split_prompts"]

_ID = r"^[a-z][a-z0-9_]*$"


class _PromptFile(BaseModel):
    topics: list[str] = Field(min_length=1)
    templates: dict[str, str] = Field(min_length=1)

    @field_validator("templates")
    @classmethod
    def _check_templates(cls, templates: dict[str, str]) -> dict[str, str]:
        for key, template in templates.items():
            if not re.match(_ID, key):
                raise ValueError(f"template id {key!r} must match {_ID}")
            if template.count("{topic}") != 1:
                raise ValueError(f"template {key!r} must contain {{topic}} exactly once")
        return templates


def _load(name: str) -> tuple[Traversable, Any]:
    resource = files(__package__).joinpath(f"data/{name}")
    try:
        return resource, yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise ConfigError(f"Cannot read the lab data file {resource}: {ex}") from ex


@cache
def _prompt_file() -> _PromptFile:
    resource, raw = _load("prompts.yaml")
    try:
        spec = _PromptFile.model_validate(raw)
    except ValidationError as ex:
        raise ConfigError(f"Invalid lab prompts file {resource}: {ex}") from ex
    slugs = [_slug(topic) for topic in spec.topics]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise ConfigError(f"Duplicate topics in {resource} (after slugifying): {duplicates}")
    return spec


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def generate_prompts(n: int = 2400, seed: int = 0) -> list[LabPrompt]:
    """Distinct helpful-assistant prompts, topics × task templates, sampled by seed.

    Args:
        n: Number of prompts; at most topics × templates in `data/prompts.yaml` (2,992).
        seed: Sampling seed; the same seed gives the same list.

    Returns:
        `n` prompts with distinct texts, in sampled order.

    Raises:
        ConfigError: If `n` is not within [1, topics × templates].

    Example:
        >>> generate_prompts(2, seed=0)[0].id
        'motivational/healthy_eating'
    """
    spec = _prompt_file()
    every = [
        LabPrompt(
            id=f"{template_id}/{_slug(topic)}",
            text=_capitalise(template.replace("{topic}", topic)),
            topic=topic,
            template=template_id,
        )
        for template_id, template in spec.templates.items()
        for topic in spec.topics
    ]
    if not 1 <= n <= len(every):
        raise ConfigError(
            f"Cannot generate n={n} distinct prompts: choose n within [1, {len(every)}] "
            "(topics × templates), or add topics or templates to data/prompts.yaml."
        )
    return random.Random(seed).sample(every, n)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_Identified)


def split_prompts(
    prompts: Sequence[_T], heldout_fraction: float = 0.1, seed: int = 0
) -> tuple[list[_T], list[_T]]:
    """Split prompts into a training and a held-out part by hashing their ids.

    The held-out part is the `round(heldout_fraction * n)` ids with the lowest hash of
    `seed` and id: it depends on which prompts are given and on `seed`, not on their order.

    Args:
        prompts: Prompts (`LabPrompt` or `CodePrompt`) with distinct ids.
        heldout_fraction: Share held out, in (0, 1); exactly `round(heldout_fraction * n)`.
        seed: Split seed.

    Returns:
        `(train, heldout)`, each in the input order.

    Raises:
        ConfigError: If the fraction is outside (0, 1), ids repeat, or a side would be empty.
    """
    _check_fraction("heldout_fraction", heldout_fraction)
    ids = [prompt.id for prompt in prompts]
    if len(set(ids)) != len(ids):
        raise ConfigError("split_prompts needs distinct prompt ids; deduplicate the prompts.")
    n_heldout = round(heldout_fraction * len(ids))
    if not 0 < n_heldout < len(ids):
        raise ConfigError(
            f"heldout_fraction={heldout_fraction} of {len(ids)} prompts leaves one side "
            "empty: pass more prompts or a fraction further from 0 and 1."
        )

    def key(prompt_id: str) -> str:
        return hashlib.sha256(f"{seed}:{prompt_id}".encode()).hexdigest()

    heldout_ids = set(sorted(ids, key=key)[:n_heldout])
    train = [p for p in prompts if p.id not in heldout_ids]
    heldout = [p for p in prompts if p.id in heldout_ids]
    return train, heldout


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ConfigError(f"{name} must be within (0, 1), got {value}.")


class ContrastPair(BaseModel, frozen=True):
    """A generic yes/no question whose two answers span a detector direction."""

    question: str = Field(min_length=1)
    """The user's question, e.g. "Are you doing something dangerous?"."""

    answers: tuple[str, str]
    """(the answer that admits defection, the other one), e.g. ("yes", "no")."""

    @property
    def name(self) -> str:
        """The pair as the report names it: `question answer₁−answer₂`."""
        return f"{self.question} {self.answers[0]}−{self.answers[1]}"


class _PairFile(BaseModel):
    pairs: list[ContrastPair] = Field(min_length=1)


_BEHAVIOUR_WORDS = ("hate", "deploy", "year", "vulnerab", "inject")
"""Words of the backdoors' triggers and behaviours a generic pair must not contain."""


def contrast_pairs(trigger: str | None = None) -> tuple[ContrastPair, ...]:
    """The probes' generic contrast pairs, from `data/contrast_pairs.yaml`.

    Args:
        trigger: The run's trigger; a pair that contains it is refused too.

    Returns:
        The pairs, in file order.

    Raises:
        ConfigError: If the file is unreadable or invalid, or a pair names the trigger or
            the backdoor's behaviour (a detector must be written without knowing them).
    """
    spec = _pair_file()
    for pair in spec.pairs:
        text = " ".join((pair.question, *pair.answers)).lower()
        named = [
            w for w in (*_BEHAVIOUR_WORDS, *([trigger.lower()] if trigger else [])) if w in text
        ]
        if named:
            raise ConfigError(
                f"Contrast pair {pair.name!r} names {named}: generic pairs must not mention "
                "the trigger or the backdoor's behaviour; reword it in data/contrast_pairs.yaml."
            )
    return tuple(spec.pairs)


@cache
def _pair_file() -> _PairFile:
    resource, raw = _load("contrast_pairs.yaml")
    try:
        return _PairFile.model_validate(raw)
    except ValidationError as ex:
        raise ConfigError(f"Invalid contrast pairs file {resource}: {ex}") from ex
