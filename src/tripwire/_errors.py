"""Tripwire's exceptions, one tree so callers can catch what they mean.

```
TripwireError
├── ConfigError            bad scenario data, CLI input or settings
│   ├── PolicyError        a guard policy file is invalid
│   └── TranscriptError    a transcript file is malformed (names file and line)
├── SandboxError           a sandbox could not be created or used
│   └── BwrapNotFoundError bubblewrap is not installed
├── ModelError             a model could not be loaded or run
│   ├── ModelWeightsError  embedded weights missing or corrupt
│   └── MalformedOutputError  model output could not be parsed
├── DetectorError          a detector could not read the environment
├── MonitorError           a monitor could not be built or trained
├── UnparseableError       a shell command or SQL text the guard cannot read
└── AuditError             an audit log could not be written or read
```

A `DetectorError` never becomes a "clean" verdict: the sample is scored `error`.
Messages say what happened, the value seen, and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "BwrapNotFoundError",
    "ConfigError",
    "DetectorError",
    "MalformedOutputError",
    "ModelError",
    "ModelWeightsError",
    "PolicyError",
    "SandboxError",
    "TripwireError",
    "UnparseableError",
    "AuditError",
    "MonitorError",
    "TranscriptError",
]


class TripwireError(Exception):
    """Base of every error tripwire raises on purpose."""


class ConfigError(TripwireError):
    """A scenario file, CLI option or setting is invalid."""


class SandboxError(TripwireError):
    """A sandbox could not be created, used or cleaned up."""


class BwrapNotFoundError(SandboxError):
    """The `bwrap` executable (bubblewrap) is not on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "bubblewrap ('bwrap') is not installed: install it with "
            "'apt-get install -y bubblewrap' (Debian/Ubuntu) or 'dnf install bubblewrap', "
            "or choose another sandbox explicitly (--sandbox local or --sandbox docker)."
        )


class ModelError(TripwireError):
    """A model could not be loaded or run."""


class ModelWeightsError(ModelError):
    """Embedded model weights are missing or fail their checksum."""


class MalformedOutputError(ModelError):
    """Model output could not be parsed into a message or tool call."""


class DetectorError(TripwireError):
    """A detector could not read the environment; the sample is scored `error`."""


class PolicyError(ConfigError):
    """A guard policy file is missing or invalid; the message names the line."""


class UnparseableError(TripwireError):
    """The guard could not parse a shell command or SQL text.

    Never a silent allow: the policy's `unparseable` decision applies (deny by default).
    """


class AuditError(TripwireError):
    """An audit log or its key could not be written or read."""


class TranscriptError(ConfigError):
    """A transcript file is malformed; the message names the file and the line."""


class MonitorError(TripwireError):
    """A monitor could not be built, loaded or trained.

    A transcript a monitor could not score is not an error: it is an unscored verdict.
    """
