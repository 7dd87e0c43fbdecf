"""The guard as an Inspect approver: `tripwire/guard` in any approval policy.

```yaml
approvers:
  - name: tripwire/guard
    tools: "*"
    policy: my_policy.yaml   # omit for the default policy
    ask: "file:/var/run/tripwire/asks:300"
```

Inspect calls the approver before every tool call. allow -> approve; deny -> reject (the
model sees the reason as the tool's error and goes on); kill -> terminate the sample;
ask -> a confirmation channel (auto-deny unless configured). In our bwrap sandbox the
guard looks at the sandbox's real files (links, directory contents) through the host
directories behind it; other sandboxes are judged blind (see `_view.py`).
"""

from __future__ import annotations

from typing import Any

from inspect_ai.approval import Approval, Approver, approver
from inspect_ai.model import ChatMessage
from inspect_ai.tool import ToolCall, ToolCallView

from ._call import GuardCall
from ._decision import Decision
from ._engine import Guard
from ._record import decision_record
from ._view import BlindView, FileView, sandbox_view

__all__ = ["GUARD_METADATA", "guard_approver"]

GUARD_METADATA = "tripwire_guard"
"""Key of the guard's decision in each approval's metadata."""


@approver(name="guard")
def guard_approver(
    policy: str | None = None,
    ask: str = "deny",
    cwd: str | None = None,
    audit: str | None = None,
) -> Approver:
    """Check every tool call against a tripwire guard policy before it runs.

    Args:
        policy: Policy YAML file; omitted, the shipped default policy.
        ask: Confirmation channel for `ask` decisions: `deny` (unattended default),
            `approve`, `terminal[:TIMEOUT]` or `file:DIR[:TIMEOUT]`.
        cwd: The agent's working directory in sandboxes the guard cannot look into
            (our bwrap sandbox reports its own).
        audit: Audit log file to record every decision in (JSONL, hash-chained,
            each record synced to disk before the call runs).
    """
    guard = Guard.from_file(policy) if policy else Guard.default()
    from ._confirm import channel_from_spec

    channel = channel_from_spec(ask)
    log = _open_audit(audit)

    async def approve(
        message: str, call: ToolCall, view: ToolCallView, history: list[ChatMessage]
    ) -> Approval:
        files, workdir = _sandbox_files()
        guard_call = GuardCall(
            tool=call.function,
            arguments=dict(call.arguments or {}),
            cwd=workdir or cwd or "/",
            session=_sample_session(),
            source="inspect",
        )
        decision = guard.check(guard_call, view=files, home=workdir)
        approved: bool | None = None
        if decision.action == "ask":
            from ._confirm import ConfirmRequest

            answer = await channel.confirm(ConfirmRequest(call=guard_call, decision=decision))
            approved = answer.approved
        if log is not None:
            log.append("decision", _audit_data(guard_call, decision, approved))
        return _approval(decision, approved)

    return approve


def _approval(decision: Decision, approved: bool | None) -> Approval:
    metadata: dict[str, Any] = {
        GUARD_METADATA: {
            "action": decision.action,
            "rule": decision.rule,
            "reason": decision.reason,
            "confirmed": approved,
            "effects": [e.model_dump(exclude_defaults=True) for e in decision.matched],
        }
    }
    if decision.action == "allow" or (decision.action == "ask" and approved):
        return Approval(decision="approve", explanation=decision.reason, metadata=metadata)
    if decision.action == "kill":
        explanation = f"Stopped by the tripwire guard ({decision.rule}): {decision.reason}"
        return Approval(decision="terminate", explanation=explanation, metadata=metadata)
    prefix = "Not confirmed" if decision.action == "ask" else "Blocked"
    explanation = f"{prefix} by the tripwire guard ({decision.rule}): {decision.reason}"
    return Approval(decision="reject", explanation=explanation, metadata=metadata)


def _sandbox_files() -> tuple[FileView, str | None]:
    """The view of the current sample's sandbox files, and its working directory."""
    try:
        from inspect_ai.util import sandbox

        from tripwire.sandbox import BwrapSandboxEnvironment

        env = sandbox()
    except Exception:  # no sandbox in this sample, or outside a sample
        return BlindView(), None
    # Inspect hands out its event-logging proxy; the environment is behind it.
    while not isinstance(env, BwrapSandboxEnvironment) and hasattr(env, "_sandbox"):
        env = env._sandbox
    if isinstance(env, BwrapSandboxEnvironment):
        tree = env.tree
        return sandbox_view(dict(tree.mounts)), tree.config.workdir
    return BlindView(), None


def _sample_session() -> str | None:
    try:
        from inspect_ai.log._samples import sample_active

        active = sample_active()
    except Exception:
        return None
    if active is None:
        return None
    return f"{active.sample.id}:{active.epoch}"


def _open_audit(path: str | None) -> Any:
    """The audit log, synced on every record.

    A decision is on disk before the call it allows runs; an eval is not a hot path
    (the hook batches instead).
    """
    if path is None:
        return None
    from tripwire.audit import AuditLog

    return AuditLog(path, fsync="always")


def _audit_data(call: GuardCall, decision: Decision, approved: bool | None) -> dict[str, Any]:
    return {**decision_record(call, decision), "confirmed": approved}
