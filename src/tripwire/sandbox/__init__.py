"""The `bwrap` sandbox: bubblewrap isolation for each sample, as an Inspect provider.

Use it with `Task(sandbox="bwrap")`, `inspect eval ... --sandbox bwrap`, or
`SandboxEnvironmentSpec("bwrap", BwrapConfig(...))` to change limits and mounts.
"""

from ._bwrap import BwrapSandboxEnvironment, bwrap_sandbox
from ._command import require_bwrap
from ._config import BwrapConfig
from ._tree import AGENT_UID, SampleTree

__all__ = [
    "AGENT_UID",
    "BwrapConfig",
    "BwrapSandboxEnvironment",
    "SampleTree",
    "bwrap_sandbox",
    "require_bwrap",
]
