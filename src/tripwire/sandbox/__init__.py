"""The `bwrap` sandbox: bubblewrap isolation for each sample, as an Inspect provider.

Use it with `Task(sandbox="bwrap")`, `inspect eval ... --sandbox bwrap`, or
`SandboxEnvironmentSpec("bwrap", BwrapConfig(...))` to change limits and mounts;
`BwrapConfig(guard="default")` runs each sample's agent under a guard policy, as
`tripwire guard run` does (see `docs/supervised-runs.md`).
"""

from typing import TYPE_CHECKING, Any

from ._command import require_bwrap
from ._config import BwrapConfig
from ._tree import AGENT_UID, SampleTree

if TYPE_CHECKING:
    from ._bwrap import BwrapSandboxEnvironment, bwrap_sandbox
    from ._limit_events import LIMITS_KEY, LimitHit

__all__ = [
    "AGENT_UID",
    "BwrapConfig",
    "LIMITS_KEY",
    "BwrapSandboxEnvironment",
    "LimitHit",
    "SampleTree",
    "bwrap_sandbox",
    "require_bwrap",
]


def __getattr__(name: str) -> Any:
    # The provider imports Inspect (seconds of start-up); `tripwire guard run` and the
    # config models do not need it.
    if name in ("BwrapSandboxEnvironment", "bwrap_sandbox"):
        from . import _bwrap

        return getattr(_bwrap, name)
    if name in ("LIMITS_KEY", "LimitHit"):
        from . import _limit_events

        return getattr(_limit_events, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
