"""Settings of the `bwrap` sandbox: where the agent works and what it may use."""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import BaseModel, Field, field_validator

__all__ = ["BwrapConfig"]

_GIB = 1024**3
_MIB = 1024**2


class BwrapConfig(BaseModel, frozen=True):
    """Configuration of one `bwrap` sandbox per sample.

    Pass it as `Task(sandbox=SandboxEnvironmentSpec("bwrap", BwrapConfig(...)))`, or as a
    YAML file `("bwrap", "bwrap.yaml")` with the same fields. Every limit applies per
    command the agent runs; the wall-clock limit is the `timeout` of each `exec`.
    """

    workdir: str = "/home/agent"
    """The agent's home and working directory; relative paths resolve against it."""

    scratch_dirs: tuple[str, ...] = ("/tmp", "/var/tmp")
    """Further writable directories, kept for the whole sample."""

    readonly_paths: tuple[str, ...] = ()
    """Paths (relative to `workdir` or absolute inside it) the agent can read but not change:
    the harness writes them, the agent gets a read-only mount over them."""

    hidden_paths: tuple[str, ...] = ()
    """Paths (relative to `workdir` or absolute inside it) the agent cannot see at all: an
    empty read-only mount lies over them. The harness still reads and writes them."""

    memory_bytes: int = Field(default=2 * _GIB, gt=0)
    """Address-space limit of each process (RLIMIT_AS)."""

    max_processes: int = Field(default=256, gt=0)
    """Processes the sandbox may run at once (RLIMIT_NPROC on a per-sample host uid)."""

    max_file_bytes: int = Field(default=256 * _MIB, gt=0)
    """Largest file a process may write (RLIMIT_FSIZE)."""

    max_open_files: int = Field(default=1024, gt=0)
    """Open file descriptors per process (RLIMIT_NOFILE)."""

    cpu_seconds: int = Field(default=120, gt=0)
    """CPU time per process (RLIMIT_CPU)."""

    default_timeout: int = Field(default=180, gt=0)
    """Wall-clock limit in seconds for a command run without its own `timeout`; nothing
    the agent starts may run forever."""

    @field_validator("workdir", "scratch_dirs", mode="after")
    @classmethod
    def _absolute(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for path in (value,) if isinstance(value, str) else value:
            if not PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
                raise ValueError(f"{path!r} must be an absolute path without '..'")
            if PurePosixPath(path) == PurePosixPath("/"):
                raise ValueError("the sandbox root cannot be a writable directory")
        return value

    @field_validator("readonly_paths", "hidden_paths", mode="after")
    @classmethod
    def _no_parent_refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if ".." in PurePosixPath(path).parts:
                raise ValueError(f"{path!r} must not contain '..'")
        return value
