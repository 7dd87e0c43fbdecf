"""The guard as a coding agent's tool-call hook: one event in, one answer out.

Coding agents run a hook command before each tool call, with the event as JSON on stdin,
and let the call go ahead on most failures (an exit code other than 0 or 2, a crash, a
timeout). So `run_hook` fails closed *by construction*: it never raises, and anything
it cannot read or decide (malformed or oversized input, a missing or invalid policy, a
guard that crashes or hangs, an audit log it cannot write) becomes a refusal in the
agent's format, with the reason. Every decision is written to the audit log.

```python
answer = run_hook(sys.stdin.buffer.read(), agent="claude", policy_path=None,
                  audit_path="audit.jsonl", timeout=5.0)
sys.stdout.write(answer.stdout); sys.stderr.write(answer.stderr)
sys.exit(answer.exit_code)
```
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tripwire._errors import TripwireError, UnparseableError

from ._call import GuardCall
from ._decision import Decision
from ._hooks import FORMATS, HookEvent, HookFormat, HookReply
from ._record import ARGUMENTS_LOG_CHARS, decision_record

__all__ = [
    "ARGUMENTS_LOG_CHARS",
    "DEFAULT_TIMEOUT",
    "MAX_EVENT_BYTES",
    "AuditSink",
    "GuardLike",
    "HookAnswer",
    "command_answer",
    "decide_event",
    "default_audit_path",
    "load_guard",
    "open_audit",
    "refusal",
    "run_hook",
    "with_timeout",
]

_T = TypeVar("_T")

DEFAULT_TIMEOUT = 5.0
"""Seconds the hook may take before it refuses the call (set the agent's own hook
timeout higher, so tripwire's refusal arrives before the agent gives up on the hook)."""

MAX_EVENT_BYTES = 16 * 2**20
"""Largest event read (a `Write` of a big file arrives whole); larger ones are refused."""


@dataclass(frozen=True)
class HookAnswer:
    """What the hook process gives back: exit code, stdout and stderr."""

    exit_code: int
    """0: stdout holds the JSON answer; 2: refused, with the reason on stderr."""

    stdout: str = ""
    """The agent's JSON answer (one line), or empty."""

    stderr: str = ""
    """The refusal's reason when `exit_code` is 2."""


class GuardLike(Protocol):
    """What the hook needs of a guard (`tripwire.guard.Guard`, or a fake in tests)."""

    def check(self, call: GuardCall) -> Decision:
        """Decide one call."""
        ...


class AuditSink(Protocol):
    """What the hook needs of an audit log (`tripwire.audit.AuditLog`)."""

    def append(self, kind: str, data: dict[str, Any]) -> Any:
        """Append one record; raises when it cannot be written."""
        ...


def load_guard(policy_path: str | None) -> GuardLike:
    """The guard for `policy_path`, or for the shipped default policy when None.

    Raises:
        PolicyError: The policy file is missing or invalid (the message names the line).
    """
    from ._engine import Guard

    return Guard.from_file(policy_path) if policy_path else Guard.default()


def open_audit(path: str) -> AuditSink:
    """The audit log at `path`, appended to with batched fsyncs; `close()` flushes it."""
    import importlib

    # Its own package, loaded only when logging (and typed loosely until it lands).
    audit_log: Any = importlib.import_module("tripwire.audit").AuditLog
    return _Opened(audit_log(path, fsync="batch"))


class _Opened:
    """An audit log entered as a context manager, so `close()` runs its `__exit__`."""

    def __init__(self, log: Any) -> None:
        self._manager = log
        self._log = log.__enter__() if hasattr(log, "__enter__") else log

    def append(self, kind: str, data: dict[str, Any]) -> Any:
        return self._log.append(kind, data)

    def close(self) -> None:
        if hasattr(self._manager, "__exit__"):
            self._manager.__exit__(None, None, None)
        elif callable(getattr(self._manager, "close", None)):
            self._manager.close()


def default_audit_path() -> str:
    """`$TRIPWIRE_HOOK_AUDIT`, else `$XDG_STATE_HOME/tripwire/hook-audit.jsonl`."""
    explicit = os.environ.get("TRIPWIRE_HOOK_AUDIT")
    if explicit:
        return explicit
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(state) / "tripwire" / "hook-audit.jsonl")


def refusal(rule: str, reason: str) -> Decision:
    """The hook's own refusal of a call it could not check."""
    return Decision(action="deny", rule=rule, reason=reason)


def run_hook(
    stdin_bytes: bytes,
    *,
    agent: str,
    policy_path: str | None,
    audit_path: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    load_guard: Callable[[str | None], GuardLike] = load_guard,
    open_audit: Callable[[str], AuditSink] = open_audit,
    max_event_bytes: int = MAX_EVENT_BYTES,
) -> HookAnswer:
    """Answer one hook event. Never raises; anything unexpected refuses the call.

    Args:
        stdin_bytes: The event, as the agent wrote it to stdin.
        agent: `claude`, `codex`, `gemini` or `cursor`: how to read the event and answer.
        policy_path: The policy file; None for the shipped default policy.
        audit_path: The audit log to append the decision to; None for no audit log.
        timeout: Seconds for loading the policy, deciding and logging; past it the call
            is refused.
        load_guard: Builds the guard from `policy_path` (tests pass fakes).
        open_audit: Opens the audit log at `audit_path` (tests pass fakes).
        max_event_bytes: Larger events are refused unread.

    Returns:
        The exit code, stdout and stderr for the agent.
    """
    started = time.monotonic()
    try:
        fmt = FORMATS.get(agent)
        if fmt is None:
            return HookAnswer(2, "", f"tripwire hook: unknown agent {agent!r}; refused\n")

        def work() -> HookReply:
            reply, _ = decide_event(
                stdin_bytes,
                fmt,
                guard=lambda: load_guard(policy_path),
                audit=(lambda: open_audit(audit_path)) if audit_path else None,
                close_audit=True,
                started=started,
                max_event_bytes=max_event_bytes,
            )
            return reply

        done, reply, error = with_timeout(work, timeout)
        if not done:
            reply = fmt.reply(
                refusal("hook:timeout", f"the guard did not answer within {timeout:g} s"), None
            )
        elif error is not None or reply is None:
            reply = fmt.reply(refusal("hook:error", _describe(error)), None)
        return command_answer(reply)
    except BaseException as ex:  # noqa: BLE001 - the hook's last line: never let a call through
        return HookAnswer(2, "", f"tripwire hook failed ({_describe(ex)}); refused\n")


def command_answer(reply: HookReply) -> HookAnswer:
    """The exit code and streams a command hook gives for `reply`."""
    if reply.block is not None:
        return HookAnswer(2, "", reply.block.rstrip("\n") + "\n")
    return HookAnswer(0, json.dumps(reply.body, ensure_ascii=False) + "\n", "")


def decide_event(
    raw: bytes,
    fmt: HookFormat,
    *,
    guard: Callable[[], GuardLike],
    audit: Callable[[], AuditSink] | None,
    started: float,
    max_event_bytes: int = MAX_EVENT_BYTES,
    close_audit: bool = False,
    lock: threading.Lock | None = None,
) -> tuple[HookReply, Decision]:
    """Read one event, decide it, log the decision, and build the agent's answer.

    Every failure along the way is a refusal naming it; only a failure of `fmt.reply`
    itself propagates (callers keep a last-resort refusal for that).

    Args:
        raw: The event bytes.
        fmt: The agent's format.
        guard: Returns the guard (may raise, e.g. PolicyError: the call is refused).
        audit: Returns the audit log (may raise: the call is refused); None: no log.
        started: `time.monotonic()` when the event arrived, for the logged latency.
        max_event_bytes: Larger events are refused unread.
        close_audit: Close the audit log after the record (a one-shot hook: the record
            must be on disk before the call is let through).
        lock: Held around the guard's check (a guard shared between threads).
    """
    event: HookEvent | None = None
    decision: Decision | None = None
    try:
        event = fmt.parse(_decode(raw, max_event_bytes))
    except UnparseableError as ex:
        decision = refusal("hook:bad-event", str(ex))
    except Exception as ex:
        decision = refusal("hook:bad-event", f"could not read the hook event ({_describe(ex)})")
    if decision is None and event is not None:
        decision = _check(event.call, guard, lock)
    assert decision is not None
    if audit is not None:
        try:
            sink = audit()
            sink.append("decision", _record(fmt, event, decision, raw, started))
            if close_audit:
                _close(sink)
        except Exception as ex:
            decision = _audit_failed(decision, ex)
    return fmt.reply(decision, event), decision


def with_timeout(
    fn: Callable[[], _T], timeout: float
) -> tuple[bool, _T | None, BaseException | None]:
    """Run `fn` in a watchdog thread: (finished in time, its value, what it raised).

    A thread, not `signal.alarm`, so it works off the main thread too (`hook serve`); a
    call that never returns is left running in its daemon thread.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as ex:  # noqa: BLE001 - handed back to the caller
            box["error"] = ex

    thread = threading.Thread(target=target, name="tripwire-hook", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return False, None, None
    return True, box.get("value"), box.get("error")


def _check(
    call: GuardCall, guard: Callable[[], GuardLike], lock: threading.Lock | None
) -> Decision:
    try:
        checker = guard()
    except TripwireError as ex:
        return refusal(
            "hook:policy",
            f"the guard's policy could not be loaded: {ex}; fix it or the --policy path",
        )
    except Exception as ex:
        return refusal("hook:policy", f"the guard could not be set up ({_describe(ex)})")
    try:
        if lock is None:
            decision = checker.check(call)
        else:
            with lock:
                decision = checker.check(call)
    except Exception as ex:
        return refusal("hook:error", f"the guard failed on this call ({_describe(ex)})")
    if not isinstance(decision, Decision):
        return refusal(
            "hook:error", f"the guard answered {type(decision).__name__}, not a Decision"
        )
    return decision


def _decode(raw: bytes, limit: int) -> dict[str, Any]:
    if len(raw) > limit:
        raise UnparseableError(
            f"the hook event is {len(raw)} bytes, over the {limit}-byte limit; refused unread"
        )
    if not raw.strip():
        raise UnparseableError(
            "the hook event is empty; tripwire hook reads the agent's event as JSON on stdin"
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as ex:
        raise UnparseableError(f"the hook event is not JSON ({_describe(ex)})") from ex
    if not isinstance(data, dict):
        raise UnparseableError(f"the hook event is JSON {type(data).__name__}, not an object")
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as ex:
        # JSON can escape a lone surrogate (\\ud800); no command or path holds one.
        raise UnparseableError(
            f"the hook event holds text that is not valid Unicode ({ex.reason}: "
            f"{ex.object[ex.start : ex.end]!r})"
        ) from None
    return data


def _audit_failed(decision: Decision, ex: Exception) -> Decision:
    why = f"the audit log could not be written ({_describe(ex)})"
    if decision.blocked:
        return decision.model_copy(update={"reason": f"{decision.reason}; also {why}"})
    return refusal(
        "hook:audit",
        f"{why}; calls are refused until it can be (fix the path or key, or run with --audit off)",
    )


def _record(
    fmt: HookFormat, event: HookEvent | None, decision: Decision, raw: bytes, started: float
) -> dict[str, Any]:
    record: dict[str, Any] = {
        **decision_record(event.call if event else None, decision),
        "source": f"hook:{fmt.agent}",
        "agent": fmt.agent,
        "event": event.name if event else None,
        "kind": event.kind if event else None,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 3),
    }
    if event is None:  # what could not be read, for whoever investigates
        record["raw"] = raw[:512].decode("utf-8", "replace")
        record["raw_bytes"] = len(raw)
    return record


def _close(sink: AuditSink) -> None:
    close = getattr(sink, "close", None)
    if callable(close):
        close()


def _describe(ex: BaseException | None) -> str:
    if ex is None:
        return "no answer"
    text = str(ex).strip()
    return f"{type(ex).__name__}: {text}" if text else type(ex).__name__
