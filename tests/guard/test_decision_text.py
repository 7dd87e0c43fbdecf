"""The reason a hook shows the agent is one line, whatever the call held."""

from __future__ import annotations

import pytest

from tripwire.guard import Decision
from tripwire.guard._hooks._base import decision_text


@pytest.mark.parametrize("breaker", ["\n", "\r\n", "\x85", "\u2028", "\x0b", "\x1c"])
def test_a_reason_with_any_line_breaker_stays_one_line(breaker: str) -> None:
    decision = Decision(
        action="deny",
        rule="unparseable",
        reason=f"shell tool call without a command argument (got {breaker}); rewrite it",
    )
    text = decision_text(decision)
    assert len(text.splitlines()) == 1
    assert text.startswith("tripwire (unparseable): shell tool call")
    assert text.endswith("rewrite it")


def test_an_empty_reason_still_says_something() -> None:
    assert decision_text(Decision(action="deny", rule="r", reason=" \n ")) == (
        "tripwire (r): no reason given"
    )
