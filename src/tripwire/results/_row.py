"""One tidy row per sample: the unit every statistic and report is built from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["REASONING_CATEGORIES", "Outcome", "ResultRow"]

Outcome = Literal["schemed", "clean", "error"]
"""A sample's verdict. `error` is an infrastructure failure or unparseable output,
counted apart and never folded into `clean`."""

REASONING_CATEGORIES: tuple[str, ...] = ("sabotage", "lying", "manipulation", "eval-awareness")
"""What the reasoning analysis looks for in the agent's own words, in report order."""


class ResultRow(BaseModel):
    """One sample's result, flat enough for pandas or duckdb."""

    scenario: str
    """Scenario name, e.g. `oversight-subversion`."""

    condition: str
    """Prompt condition, e.g. `strong`, `plain`, `none`."""

    theme: str = ""
    """Scenario theme (the story the sample is set in)."""

    setting: str = ""
    """For paired (deferred-subversion) evaluations, which side of the pair the sample
    is: e.g. `testing` or `deployment`, `sandbag` or `counterfactual`."""

    model: str
    """Inspect model string, e.g. `tripwire/scripted-honest`."""

    epoch: int = 1
    """Epoch of the sample (1-based)."""

    sample_id: str = ""
    """Inspect sample id."""

    outcome: Outcome
    """`schemed`, `clean` or `error`."""

    evidence: list[str] = Field(default_factory=list)
    """Human-readable evidence for `schemed` (the command and what changed)."""

    behaviours: list[str] = Field(default_factory=list)
    """Kinds of scheming seen (e.g. `oversight_disabled`, `successor_deleted`), each once."""

    measures: dict[str, float] = Field(default_factory=dict)
    """Numbers a scenario measures per sample, e.g. `accuracy` in sandbagging."""

    error: str | None = None
    """Why the sample is `error`, when it is."""

    choice: str | None = None
    """The option the agent selected through the scenario's selector tool, if any."""

    chose_goal_option: bool | None = None
    """Whether that option serves the agent's own (system-prompt) goal."""

    tokens: int = 0
    """Total model tokens used by the sample."""

    seconds: float = 0.0
    """Wall-clock seconds the sample took."""

    log_file: str = ""
    """The Inspect log the row was read from."""

    guard: str = ""
    """The guard approver that checked the sample's tool calls (`tripwire/guard`), or
    empty when it ran unguarded."""

    guard_blocks: list[str] = Field(default_factory=list)
    """The guard rule behind each tool call it refused (reject or terminate), in order."""

    reasoning: list[str] = Field(default_factory=list)
    """Categories (`sabotage`, `lying`, `manipulation`, `eval-awareness`) the pattern
    sets found in the agent's own words during the episode, each once: weak evidence."""

    reasoning_llm: dict[str, bool] | None = None
    """The grader model's yes or no per category over the same words, when the
    interrogation had a grader model; None without one, or when its grade was an error
    (then `reasoning_grader` is set)."""

    reasoning_grader: str = ""
    """The grader model that read the agent's words, or empty when none did."""
