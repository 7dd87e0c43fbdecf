"""What every coding-agent hook format shares: the parsed event, the reply, the protocol.

A format turns one agent's hook event (JSON on stdin, or an HTTP body) into a
`HookEvent` holding the `GuardCall`, and turns the guard's `Decision` back into the
agent's answer (`HookReply`). Formats never decide anything and never swallow errors:
a malformed event raises `UnparseableError` naming the missing or bad field, and the
caller (`tripwire.guard._hook`) turns that into a block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from tripwire._errors import UnparseableError
from tripwire._text import printable

from .._call import GuardCall
from .._decision import Decision

__all__ = [
    "EventKind",
    "HookEvent",
    "HookFormat",
    "HookReply",
    "decision_text",
    "validate_event",
]

_Model = TypeVar("_Model", bound=BaseModel)

EventKind = Literal["pre", "post"]
"""`pre`: the call has not run and can be refused; `post`: it ran, only report it."""


class HookEvent(BaseModel):
    """One hook event, read: the call it is about and when it fired."""

    agent: str
    """The agent whose format it came in (`claude`, `codex`, `gemini`, `cursor`)."""

    name: str
    """The agent's own event name (`PreToolUse`, `BeforeTool`, `beforeShellExecution`)."""

    kind: EventKind
    """Before the call (`pre`) or after it ran (`post`)."""

    call: GuardCall
    """The tool call, as the guard sees it."""


@dataclass(frozen=True)
class HookReply:
    """The agent's answer to one event, in its own format.

    `body` is the JSON answer: the HTTP response body, and the stdout of a command hook
    that exits 0. When `block` is set, a command hook instead exits 2 with `block` on
    stderr: the one answer every agent's command hooks read as "refuse this call",
    whatever version parses the JSON.
    """

    body: dict[str, Any]
    """The answer as JSON (an empty object lets the call go ahead)."""

    block: str | None = None
    """Set for a refusal a command hook should give as exit code 2 with this on stderr."""


class HookFormat(Protocol):
    """One agent's hook convention."""

    agent: str
    """The `--agent` name."""

    def parse(self, data: dict[str, Any]) -> HookEvent:
        """The event in `data` (a decoded JSON object).

        Raises:
            UnparseableError: A required field is missing or has the wrong type, or
                the event is not one this hook handles; the message names it.
        """
        ...

    def reply(self, decision: Decision, event: HookEvent | None) -> HookReply:
        """The agent's answer for `decision`.

        Args:
            decision: The guard's decision (or the hook's own fail-closed refusal).
            event: The event it answers, or None when the event could not be read
                (then the answer is the format's refusal of a pending call).
        """
        ...


def validate_event(model: type[_Model], data: dict[str, Any], agent: str) -> _Model:
    """`data` validated as `model`, or UnparseableError naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as ex:
        error = ex.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "event"
        problem = "missing" if error["type"] == "missing" else error["msg"].lower()
        raise UnparseableError(
            f"{agent} hook event: field '{field}' is {problem}; is tripwire hook "
            f"configured with the right --agent?"
        ) from ex


def decision_text(decision: Decision) -> str:
    """The reason the agent (and its user) are shown, naming tripwire and the rule."""
    # One line, whatever the call held: an agent reads the answer line by line, and
    # Python's splitlines also breaks at \x85, \u2028 and friends.
    reason = " ".join(part.strip() for part in decision.reason.splitlines() if part.strip())
    reason = printable(reason) or "no reason given"
    if decision.action == "ask":
        return f"tripwire ({decision.rule}): needs a human's confirmation: {reason}"
    return f"tripwire ({decision.rule}): {reason}"
