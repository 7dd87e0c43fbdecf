"""How a task interrogates its agents: the `interrogate` task argument, validated."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tripwire._errors import ConfigError

from ._wordings import WORDINGS, wording_named

__all__ = ["InterrogationConfig", "interrogation_config"]


class InterrogationConfig(BaseModel):
    """Options of the follow-up interrogation (task argument `interrogate`).

    `interrogate=true` takes the defaults; a mapping sets some, e.g.
    `-T 'interrogate={follow_ups: 5, grader: openai/gpt-4o}'`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    follow_ups: int = Field(default=20, ge=0, le=1000)
    """Times each wording is asked of each scheming sample (Meinke et al.: 20); 0 skips
    the single-turn questions."""

    wordings: tuple[str, ...] = tuple(w.name for w in WORDINGS)
    """Which of the eight wordings to ask (names such as `direct+honest`)."""

    grader: str | None = None
    """Inspect model that grades answers (and the agent's reasoning) with a rubric;
    None: the deterministic rule grader."""

    turns: int = Field(default=7, ge=0, le=20)
    """Turns of the multi-turn interrogation; 0 skips it."""

    interrogator: str | None = None
    """Inspect model that conducts the multi-turn interrogation, blind to whether the
    agent schemed, and gives a verdict after each turn; None: a fixed ladder of
    increasingly direct questions (no verdicts)."""

    controls: float = Field(default=1.0, ge=0.0, le=1.0)
    """Share of clean samples interrogated over several turns as innocent controls
    (chosen by a hash of the sample id, so the choice is stable)."""

    max_tokens: int = Field(default=512, ge=16)
    """Most tokens the agent may spend on one answer."""

    @field_validator("wordings", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("wordings")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            wording_named(name)  # ValueError lists the names
        return value


def interrogation_config(
    value: bool | dict[str, Any] | InterrogationConfig | None,
) -> InterrogationConfig | None:
    """The config a task argument stands for: None (off), True (defaults) or options.

    Raises:
        ConfigError: Naming the first bad option and what it takes.
    """
    if value is None or value is False:
        return None
    if value is True:
        return InterrogationConfig()
    if isinstance(value, InterrogationConfig):
        return value
    if not isinstance(value, dict):
        raise ConfigError(
            f"interrogate must be true, false or a mapping of options, not {value!r}."
        )
    try:
        return InterrogationConfig.model_validate(value)
    except ValidationError as ex:
        problem = ex.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "interrogate"
        known = ", ".join(InterrogationConfig.model_fields)
        raise ConfigError(f"interrogate: {where}: {problem['msg']} (options: {known}).") from None
