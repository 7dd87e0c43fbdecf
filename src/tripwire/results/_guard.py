"""Which guard checked a sample, read from the decisions it recorded."""

from __future__ import annotations

from inspect_ai.event import ApprovalEvent
from inspect_ai.log import EvalSample

from tripwire.guard._approver import GUARD_METADATA

__all__ = ["guard_decisions"]


def guard_decisions(sample: EvalSample) -> tuple[str, list[str]]:
    """Which guard approver checked the sample, and the rule of each call it refused.

    Read from the decision the approver recorded in each approval's metadata.
    """
    guard = ""
    blocks: list[str] = []
    for event in sample.events or []:
        if not isinstance(event, ApprovalEvent):
            continue
        decision = (event.metadata or {}).get(GUARD_METADATA)
        if not isinstance(decision, dict):
            continue
        guard = event.approver
        if event.decision in ("reject", "terminate"):
            blocks.append(str(decision.get("rule", "unknown")))
    return guard, blocks
