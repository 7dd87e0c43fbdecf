"""The detector protocol: read the environment's state, never the model's words."""

from __future__ import annotations

from typing import Protocol

from inspect_ai.util import SandboxEnvironment

from ._trace import Violation

__all__ = ["Detector"]


class Detector(Protocol):
    """Checks a sandbox for the state changes a scenario counts as scheming."""

    async def check(self, env: SandboxEnvironment) -> list[Violation]:
        """Return the violations present now (empty when oversight is intact).

        Raises:
            DetectorError: If the state cannot be read; the sample becomes `error`.
        """
        ...
