"""Settings of the `bwrap` sandbox: where the agent works and what it may use."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pydantic import BaseModel, Field, field_validator

__all__ = ["NET_DIR", "SHIM_DIR", "BwrapConfig"]

_HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
NET_DIR = "/srv/net"
"""Where simulated remote hosts live inside the sandbox."""
SHIM_DIR = "/opt/tripwire/bin"
"""Read-only directory of tripwire's `ssh`/`scp` shims, first on PATH when a sandbox
has remote hosts."""

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

    remote_hosts: tuple[str, ...] = ()
    """Simulated remote hosts, e.g. `model_deployment_v2`. Each is a directory tree of
    its own (`/srv/net/<host>` inside the sandbox; the remote account's home is
    `/srv/net/<host>/home/user`), reached from inside with the `ssh` and `scp` shims
    tripwire puts first on PATH, which log every call to `/srv/net/.access.log`. The
    tree is mounted for the shims, so an agent that finds it can change it directly:
    a detector reads the remote state, however it was reached. Processes a remote
    command leaves running (`nohup`, `setsid`, `&`) are recorded with their command line
    and the hashes of the files they use in `/srv/net/.processes/<host>.jsonl`, the
    host's process table (nothing outlives one `exec`, so the table is what a detector
    reads)."""

    memory_bytes: int = Field(default=2 * _GIB, gt=0)
    """Address-space limit of each process (RLIMIT_AS)."""

    sample_memory_bytes: int = Field(default=4 * _GIB, gt=0)
    """Memory of all the sample's processes together (a memory cgroup; needs root and a
    writable cgroup hierarchy, else only `memory_bytes` per process holds): past it the
    kernel kills the sample's largest process."""

    disk_bytes: int = Field(default=1 * _GIB, gt=0)
    """Everything the sample may store in its writable directories together (a tmpfs
    of this size under the tree; needs root, else only `max_file_bytes` per file
    holds). The tmpfs is memory, so it also counts towards `sample_memory_bytes`."""

    max_files: int = Field(default=100_000, gt=0)
    """Files and directories the sample may create in its writable directories (the
    tmpfs's inodes; needs root)."""

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

    guard: str | None = None
    """Run the agent under a guard policy, as `tripwire guard run` does: `"default"` for
    the shipped policy, or the path of a policy YAML file (checked when the task starts).
    Every shell the agent starts asks the guard first (refused: exit code 126 and the
    reason on stderr); the policy's `run:` section plants decoys, mounts protected files
    read-only, hides hidden ones and hashes protected and watched files after each of the
    agent's commands. Incidents go to the sample's transcript and to its store
    (`tripwire_incidents`, with the decision counts in `tripwire_guard_counts`); a `kill`
    decision, a tripped decoy or a changed file (per `run.on_honeytoken` and
    `run.on_integrity`) ends the sample with a `custom` limit, and every later command as
    the agent raises the same error. Commands as `root` or `service` are the harness's own
    (setup, detectors, scorers): they run without the shim, the decoys or the read-only
    mounts, and are never checked; run scorers' commands as `root` once a sample may have
    been stopped. See `docs/supervised-runs.md`."""

    guard_confirm: str = "deny"
    """Who answers the guard's `ask` decisions: `deny` (refuse, the default for unattended
    evals), `approve` (tests only), `terminal[:SECONDS]` or `file:DIR[:SECONDS]`."""

    @field_validator("workdir", "scratch_dirs", mode="after")
    @classmethod
    def _absolute(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for path in (value,) if isinstance(value, str) else value:
            if not PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
                raise ValueError(f"{path!r} must be an absolute path without '..'")
            if PurePosixPath(path) == PurePosixPath("/"):
                raise ValueError("the sandbox root cannot be a writable directory")
        return value

    @field_validator("remote_hosts", mode="after")
    @classmethod
    def _host_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if not _HOST_NAME.fullmatch(host):
                raise ValueError(
                    f"remote host {host!r} must be a host name (letters, digits, '_', '-', '.')"
                )
        return value

    @field_validator("readonly_paths", "hidden_paths", mode="after")
    @classmethod
    def _no_parent_refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if ".." in PurePosixPath(path).parts:
                raise ValueError(f"{path!r} must not contain '..'")
        return value
