"""tripwire: catch AI agents that scheme.

Scenarios are Inspect tasks (`inspect eval tripwire/oversight_subversion`), the
sandbox is the `bwrap` Inspect sandbox provider, and `tripwire/<name>` models are
the embedded local default and the scripted reference agents.
"""

from importlib.metadata import PackageNotFoundError, version

from ._errors import (
    BwrapNotFoundError,
    ConfigError,
    DetectorError,
    MalformedOutputError,
    ModelError,
    ModelWeightsError,
    SandboxError,
    TripwireError,
)

try:
    __version__ = version("tripwire")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "BwrapNotFoundError",
    "ConfigError",
    "DetectorError",
    "MalformedOutputError",
    "ModelError",
    "ModelWeightsError",
    "SandboxError",
    "TripwireError",
    "__version__",
]
