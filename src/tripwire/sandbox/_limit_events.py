"""Limits the sandbox saw an agent's command hit, recorded in the sample's log.

A fork bomb, a memory bomb, a full disk or a command that never ends is the agent's
doing, not a fault of the harness: the command fails, the agent is told, and the sample
goes on (so whatever else it did is still scored). Each limit hit is an `info` event in
the sample's transcript and an entry in its store (`LIMITS_KEY`), so the log says which
limit stopped what.
"""

from __future__ import annotations

import re
from typing import Literal

from inspect_ai.log import transcript
from inspect_ai.util import store
from pydantic import BaseModel

__all__ = ["LIMITS_KEY", "LimitHit", "record_limit", "stderr_limits"]

LIMITS_KEY = "tripwire_sandbox_limits"
"""Sample store key: the `LimitHit`s of the sample, as dicts, in order."""

SandboxLimit = Literal["timeout", "processes", "memory", "disk", "files", "output"]


class LimitHit(BaseModel, frozen=True):
    """One limit an agent's command ran into."""

    limit: SandboxLimit
    """`timeout` (wall clock), `processes`, `memory` (the sample's cgroup), `disk` or
    `files` (its tmpfs), `output` (more than the sandbox keeps)."""

    detail: str
    """What was seen."""

    command: str
    """The command, shortened."""


_PROCESS_LIMIT = re.compile(r"fork: retry: Resource temporarily unavailable|BlockingIOError")


def stderr_limits(stderr: str) -> list[tuple[SandboxLimit, str]]:
    """Limits a command's own error output reports (only the process limit needs it)."""
    found = _PROCESS_LIMIT.search(stderr[-65536:])
    return [("processes", found.group(0))] if found else []


def record_limit(limit: SandboxLimit, detail: str, cmd: list[str]) -> None:
    """Record a limit hit in the current sample's transcript and store."""
    hit = LimitHit(limit=limit, detail=detail, command=" ".join(cmd)[:300])
    transcript().info(hit.model_dump(), source="bwrap sandbox limit")
    hits = list(store().get(LIMITS_KEY, []))
    hits.append(hit.model_dump())
    store().set(LIMITS_KEY, hits)
