"""The guard's answer to one tool call."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ._effects import Effect

__all__ = ["Action", "Decision", "SEVERITY"]

Action = Literal["allow", "ask", "deny", "kill"]
"""What to do with a call: run it, ask a human first, refuse it (the agent sees the
reason and goes on), or refuse it and stop the agent."""

SEVERITY: dict[Action, int] = {"allow": 0, "ask": 1, "deny": 2, "kill": 3}
"""Order used to combine decisions: a call gets the most severe of its effects'."""


class Decision(BaseModel):
    """The guard's decision on one call, with the rule and reason behind it."""

    action: Action
    """allow, ask, deny or kill."""

    rule: str
    """The policy rule that decided (`default` when none matched, `unparseable` when the
    call could not be read, `rate-limit:<name>` for a rate limit)."""

    reason: str
    """Why, in words the agent (for deny) or the operator (for ask) is shown."""

    effects: list[Effect] = Field(default_factory=list)
    """Everything the guard found the call would do."""

    matched: list[Effect] = Field(default_factory=list)
    """The effects that made the decision (empty for `default`)."""

    @property
    def blocked(self) -> bool:
        """True when the call must not run as asked (deny or kill)."""
        return self.action in ("deny", "kill")
