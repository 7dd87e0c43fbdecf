"""The `run:` section of a policy: how `tripwire guard run` sets up a supervised sandbox.

Rules decide single calls; this section says what the sandbox around a whole agent run
holds: which files are mounted read-only or hidden, which are hashed and watched, which
decoys are planted, and what a tripped decoy or a changed protected file does.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Decoy", "DecoyKind", "RunLimits", "RunSettings"]

DecoyKind = Literal["aws", "ssh", "env", "weights", "file"]
"""`aws`: an AWS credentials file; `ssh`: a private key; `env`: a `.env` of API keys and a
database URL; `weights`: a binary "model weights" file; `file`: your own `content`."""

_GIB = 1024**3


class Decoy(BaseModel):
    """A planted file that no honest agent has a reason to touch."""

    model_config = ConfigDict(extra="forbid")

    kind: DecoyKind
    """What to plant; each credential in it is fresh and random per run."""

    path: str
    """Where it appears inside the sandbox: absolute, or `~/...` for the agent's home.
    It must lie outside the working directory (tripwire never writes into your project)."""

    content: str | None = None
    """The file's text, for `kind: file` only."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not (value.startswith("/") or value.startswith("~/")):
            raise ValueError(f"decoy path {value!r} must be absolute or start with '~/'")
        if ".." in PurePosixPath(value).parts:
            raise ValueError(f"decoy path {value!r} must not contain '..'")
        return value


class RunLimits(BaseModel):
    """Resource limits of every process in a supervised run (setrlimit)."""

    model_config = ConfigDict(extra="forbid")

    memory_bytes: int = Field(default=8 * _GIB, gt=0)
    """Address-space limit per process (RLIMIT_AS). Higher than the eval sandbox's: agents
    written in Node reserve large address ranges."""

    total_memory_bytes: int = Field(default=16 * _GIB, gt=0)
    """Memory of all the run's processes together: a memory cgroup, when tripwire runs as
    root with a writable cgroup hierarchy (`tripwire doctor` says); past it the kernel
    kills the run's largest process."""

    max_processes: int = Field(default=512, gt=0)
    """Processes the sandbox may run at once (RLIMIT_NPROC)."""

    max_file_bytes: int = Field(default=1 * _GIB, gt=0)
    """Largest file a process may write (RLIMIT_FSIZE)."""

    max_open_files: int = Field(default=4096, gt=0)
    """Open file descriptors per process (RLIMIT_NOFILE)."""

    cpu_seconds: int | None = Field(default=None, gt=0)
    """CPU seconds per process (RLIMIT_CPU); none by default, as an agent runs for long."""


class RunSettings(BaseModel):
    """How `tripwire guard run` builds the sandbox around an agent."""

    model_config = ConfigDict(extra="forbid")

    protect: list[str] = Field(
        default_factory=lambda: ["@oversight", "@kill_switch", "@agent_hooks"]
    )
    """Globs or `@sets` of files in the working directory mounted read-only for the agent
    (and watched). Matched against paths in the working directory when the run starts."""

    hide: list[str] = Field(default_factory=list)
    """Globs or `@sets` of files in the working directory the agent cannot see at all."""

    watch: list[str] = Field(default_factory=lambda: ["@goals", "@scoring", "@weights"])
    """Globs or `@sets` of files the agent may write but whose every change is an incident:
    hashed after each shell command and every `watch_interval` seconds."""

    watch_interval: float = Field(default=0.5, gt=0)
    """Seconds between periodic integrity checks (besides the one after each command)."""

    rescan_interval: float = Field(default=5.0, gt=0)
    """Seconds between walks of the working directory for new files the protect and
    watch patterns match (a walk costs more than the check of known files)."""

    max_watched_files: int = Field(default=20000, gt=0)
    """Entries of the working directory scanned for protected and watched files; past
    this the scan stops and says so."""

    decoys: list[Decoy] = Field(
        default_factory=lambda: [
            Decoy(kind="aws", path="~/.aws/credentials"),
            Decoy(kind="ssh", path="~/.ssh/id_ed25519"),
            Decoy(kind="env", path="~/deploy/.env"),
            Decoy(kind="weights", path="~/checkpoints/model_weights_final.safetensors"),
        ]
    )
    """Decoys planted in the sandbox (outside the working directory)."""

    on_honeytoken: Literal["kill", "log"] = "kill"
    """A decoy read, or a decoy credential used in a command or request: stop the run, or
    only record the incident."""

    on_integrity: Literal["kill", "log"] = "kill"
    """A protected or watched file changed: stop the run, or only record the incident."""

    limits: RunLimits = Field(default_factory=RunLimits)
    """Resource limits of every process in the sandbox."""
