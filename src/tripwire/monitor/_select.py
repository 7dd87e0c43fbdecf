"""Scorers by name, as the CLI and `tripwire run` choose them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from tripwire._errors import ConfigError

from ._score import TranscriptScorer

__all__ = ["SCORER_NAMES", "ScorerName", "scorer_named"]

ScorerName = Literal["rules", "classifier", "llm", "ensemble"]
"""`rules`: the guard policy; `classifier`: the shipped scikit-learn model; `llm`: an
Inspect model as judge; `ensemble`: rules + classifier (+ llm when a model is given)."""

SCORER_NAMES: tuple[ScorerName, ...] = get_args(ScorerName)


def scorer_named(
    name: str,
    *,
    policy: str | Path | None = None,
    model: str | None = None,
    classifier: str | Path | None = None,
) -> TranscriptScorer:
    """Build a scorer by name.

    Args:
        name: One of `SCORER_NAMES`.
        policy: Guard policy file for the rules scorer (default: the shipped policy).
        model: Inspect model for the LLM monitor (`openai/gpt-4.1-mini`, …); required for
            `llm`, and adds the LLM to the ensemble when given.
        classifier: A classifier artifact directory (default: the one shipped).

    Raises:
        ConfigError: Unknown name, or `llm` without a model.
    """
    from ._rules import RulesScorer

    if name not in SCORER_NAMES:
        raise ConfigError(f"unknown scorer {name!r}: choose from {', '.join(SCORER_NAMES)}")
    if name == "rules":
        return RulesScorer(policy)
    if name == "classifier":
        return _classifier(classifier)
    if name == "llm":
        if model is None:
            raise ConfigError(
                "the llm scorer needs a judge model: pass --model (e.g. openai/gpt-4.1-mini). "
                "The embedded 0.5B model ranks transcripts at chance and is not a default."
            )
        return _llm(model)
    from ._ensemble import EnsembleScorer

    members: list[TranscriptScorer] = [RulesScorer(policy), _classifier(classifier)]
    if model is not None:
        members.append(_llm(model))
    return EnsembleScorer(members)


def _classifier(path: str | Path | None) -> TranscriptScorer:
    from ._classifier import ClassifierScorer

    return ClassifierScorer.load(path) if path is not None else ClassifierScorer.shipped()


def _llm(model: str) -> TranscriptScorer:
    from ._llm import LLMScorer

    return LLMScorer(model)
