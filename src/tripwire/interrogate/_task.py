"""What a scenario's task adds when it interrogates its agents."""

from __future__ import annotations

from typing import Any

from inspect_ai.scorer import Scorer
from inspect_ai.solver import Solver

from ._config import InterrogationConfig, interrogation_config

__all__ = ["InterrogateArg", "interrogation_steps"]

InterrogateArg = bool | dict[str, Any] | None
"""A task's `interrogate` argument: false (off), true (defaults) or a mapping of
`InterrogationConfig` options."""


def interrogation_steps(
    interrogate: InterrogateArg | InterrogationConfig,
) -> tuple[list[Solver], list[Scorer]]:
    """The solver and scorer a task appends for its `interrogate` argument (none if off).

    Raises:
        ConfigError: On a bad option (checked when the task is built, before any run).
    """
    config = interrogation_config(interrogate)
    if config is None:
        return [], []
    from ._scorer import interrogation_outcome
    from ._solver import interrogation

    return [interrogation(config)], [interrogation_outcome()]
