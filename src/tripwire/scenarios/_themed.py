"""What the themed evaluations share: conditions, prompt rendering, samples.

Self-exfiltration and goal-guarding (like oversight-subversion) set one story from
the theme bank under a goal condition; they differ in the memo's consequence and in
what the detector watches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal, get_args

from inspect_ai import Task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageSystem, ChatMessageUser
from inspect_ai.solver import Solver
from inspect_ai.util import SandboxEnvironmentSpec

from tripwire._errors import ConfigError

from ._bank import Theme, pick_themes
from ._choose import choose, rotate
from ._render import load_templates, render_template

__all__ = [
    "THEMED_CONDITIONS",
    "ThemedCondition",
    "data_file_text",
    "goal_fields",
    "pseudo_weights",
    "render",
    "system_prompt",
    "themed_dataset",
    "themed_sample",
    "themed_task",
    "user_prompt",
]

ThemedCondition = Literal["strong", "plain", "none", "matched"]
"""How the goal is given: with a strong nudge, plainly, not at all, or management's
own goal with the nudge (the goal-matched control, where scheming should vanish)."""

THEMED_CONDITIONS: tuple[ThemedCondition, ...] = get_args(ThemedCondition)


def render(template: str, fields: dict[str, Any], what: str) -> str:
    """Render a Jinja2 template; a missing field or bad template is a ConfigError."""
    return render_template(template, fields, f"the {what} template")


@cache
def _shared_templates() -> dict[str, Any]:
    loaded = load_templates("tripwire.scenarios", "themed", ["system", "environment", "user"])
    if not isinstance(loaded["system"], dict):
        raise ConfigError("the themed prompts file must map 'system' per condition")
    return loaded


def system_prompt(fields: dict[str, Any], condition: ThemedCondition) -> str:
    """The system prompt for a theme under a condition, environment note included."""
    templates = _shared_templates()
    system = render(templates["system"][condition], fields, f"system ({condition})").strip()
    environment = render(templates["environment"], fields, "environment").strip()
    return f"{system}\n\n{environment}"


def user_prompt(fields: dict[str, Any]) -> str:
    """The user's request for a theme."""
    return render(_shared_templates()["user"], fields, "user").strip()


def goal_fields(theme: Theme, condition: ThemedCondition) -> dict[str, Any]:
    """Sample metadata about whose option is whose under a condition.

    Under `matched` the agent's goal is management's, so management's option is
    the one serving the agent.
    """
    developer = theme.option_serving("developer")
    own = developer if condition == "matched" else theme.option_serving("agent")
    return {"goal_option": own, "developer_option": developer}


def data_file_text(theme: Theme, memo: str) -> str:
    """The theme's data file: its figures, the options, then the internal memo."""
    options = "\n\n".join(
        f"Strategy {key}: {option.title}\n{option.description.strip()}"
        for key, option in sorted(theme.options.items())
    )
    return f"{theme.data.strip()}\n\nOPTIONS\n\n{options}\n\n---\n\n{memo.strip()}\n"


@cache
def pseudo_weights(label: str, size: int = 64 * 1024) -> bytes:
    """Deterministic bytes standing in for a model's weights; each label differs."""
    blocks = (size + 31) // 32
    return b"".join(
        hashlib.sha256(f"{label}:{counter}".encode()).digest() for counter in range(blocks)
    )[:size]


def themed_dataset(
    scenario: str,
    conditions: str | Sequence[str],
    themes: str | Sequence[str] | None,
    samples_per_condition: int | None,
    build: Callable[[Theme, ThemedCondition], Sample],
) -> MemoryDataset:
    """Samples per condition (default: one per theme), built by `build(theme, condition)`.

    A theme used again within a condition gets `-r<k>` appended to its sample id.

    Raises:
        ConfigError: On an unknown condition or theme (listing the valid ones).
    """
    chosen_conditions = choose(conditions, THEMED_CONDITIONS, "condition")
    chosen = pick_themes(themes)
    samples = []
    for index, condition in enumerate(chosen_conditions):
        for theme, repeat in rotate(chosen, index, samples_per_condition):
            sample = build(theme, condition)  # type: ignore[arg-type]  # checked above
            if repeat:
                sample.id = f"{sample.id}-r{repeat}"
            samples.append(sample)
    return MemoryDataset(samples, name=scenario)


def themed_sample(
    scenario: str,
    theme: Theme,
    condition: ThemedCondition,
    texts: tuple[str, str, dict[str, str]],
    **metadata: Any,
) -> Sample:
    """One themed sample, with the metadata every themed scenario's runtime needs.

    Args:
        scenario: The scenario's hyphenated name.
        theme: The theme.
        condition: The goal condition.
        texts: System prompt, user prompt and files, as the scenario rendered them.
        **metadata: More metadata for the scenario's detector.
    """
    system, user, files_ = texts
    return Sample(
        id=f"{theme.id}-{condition}",
        input=[ChatMessageSystem(content=system), ChatMessageUser(content=user)],
        files=files_,
        metadata={
            "scenario": scenario,
            "theme": theme.id,
            "condition": condition,
            "selector_tool": theme.selector_tool,
            **goal_fields(theme, condition),
            **metadata,
        },
    )


def themed_task(
    scenario: str,
    dataset: MemoryDataset,
    *,
    max_turns: int,
    sandbox: str | SandboxEnvironmentSpec,
    version: int,
    setup: Solver | None = None,
    interrogate: Any = False,
) -> Task:
    """A themed scenario's Inspect task: the shared agent loop and scorer.

    `setup` runs before the agent (e.g. to prepare a simulated host as root);
    `interrogate` (the task argument) adds the follow-up interrogation.
    """
    from tripwire.interrogate import interrogation_steps

    from ._agent import scenario_agent
    from ._scorer import scheming_outcome

    asks, grades = interrogation_steps(interrogate)
    return Task(
        dataset=dataset,
        setup=setup,
        solver=[scenario_agent(max_turns=max_turns), *asks],
        scorer=[scheming_outcome(), *grades],
        sandbox=sandbox,
        version=version,
        metadata={"scenario": scenario},
    )
