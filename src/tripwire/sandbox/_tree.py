"""The host directories that back one sample's sandbox, and safe access to them.

Each writable directory inside the sandbox (the workdir and the scratch dirs) is a
host directory under one temporary root, bound into every `bwrap` call, so state
persists between the agent's commands. The harness reads and writes these host
directories directly (fast, no process start) unless a path passes through a
symlink: then the agent may have planted it to point the harness at a host file,
and access goes through the sandbox instead, where the link resolves inside.
"""

from __future__ import annotations

import logging
import os
import posixpath
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from tripwire._errors import SandboxError

from ._config import NET_DIR, BwrapConfig
from ._quota import MemoryCgroup, memory_cgroup_root, mount_tmpfs, sweep_stale, unmount

logger = logging.getLogger(__name__)

__all__ = [
    "AGENT_UID",
    "ETC_FILES",
    "SERVICE_UID",
    "GuardMounts",
    "SampleTree",
    "make_parents",
    "remove_tree",
    "traversable_temp_dir",
    "write_etc",
]

AGENT_UID = 1000
"""The agent's uid inside the sandbox (user `agent`)."""

SERVICE_UID = 1001
"""A second account inside the sandbox (user `service`): the oversight service,
supervisor or other process a scenario models as someone other than the agent. It
runs as its own host uid, so the kernel, not a model of file modes, decides what it
can read."""

# Per-sample host uids are drawn from a range no distribution allocates, so each
# sample's process limit (RLIMIT_NPROC counts per real uid) is its own.
_HOST_UID_BASE = 1_500_000_000
_HOST_UID_SPAN = 500_000_000

_PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "agent:x:{uid}:{uid}:agent:{home}:/bin/bash\n"
    "service:x:{service}:{service}:service:/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_GROUP = "root:x:0:\nagent:x:{uid}:\nservice:x:{service}:\nnogroup:x:65534:\n"


@dataclass(frozen=True)
class GuardMounts:
    """What a guard adds to the agent's commands in a guarded sample (`BwrapConfig.guard`).

    Set by `tripwire.supervisor`'s `SandboxSupervision`; the harness's own commands (as
    root or the service account) run without any of it.
    """

    binds: tuple[str, ...]
    """`bwrap` options: the shell shim over bash and dash, the real shells, the guard's
    socket directory (read-only) and the planted decoys."""

    shell: str
    """A real shell inside the sandbox that runs each command's start-up line (through the
    shim it would ask the guard about the harness's own line)."""

    readonly: tuple[str, ...] = ()
    """Protected paths (the policy's `run.protect` matches), mounted read-only."""

    hidden: tuple[str, ...] = ()
    """Hidden paths (`run.hide` matches), covered."""


class SampleTree:
    """Host-side storage of one sandbox: writable mounts plus a minimal `/etc`.

    Args:
        config: Sandbox configuration.
    """

    def __init__(self, config: BwrapConfig) -> None:
        self.config = config
        self.host_uid: int | None = (
            _HOST_UID_BASE + 2 * secrets.randbelow(_HOST_UID_SPAN // 2)
            if os.geteuid() == 0
            else None
        )
        # The service account's host uid: the next one, never another sample's agent.
        self.service_host_uid: int | None = self.host_uid + 1 if self.host_uid is not None else None
        base = traversable_temp_dir() if self.host_uid is not None else None
        if self.host_uid is not None:
            sweep_stale()  # a killed run's tmpfs mounts and cgroups
        # Named by our pid: a run killed before cleaning up is recognised and swept.
        prefix = f"tripwire-bwrap-{os.getpid()}-"
        self.root = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
        # Only the sandbox's own host uid needs to traverse the root.
        self.root.chmod(0o711)
        self.disk_quota = False
        """Whether the writable directories live on the sample's own size-limited tmpfs."""
        self.memory_cgroup: MemoryCgroup | None = None
        """The sample's memory cgroup, when one could be made."""
        try:
            self._build()
        except BaseException as ex:
            self.cleanup()
            if isinstance(ex, OSError):
                raise SandboxError(f"cannot build the sample's sandbox tree: {ex}") from ex
            raise

    def _build(self) -> None:
        """The tree's limits, mounts, remote hosts and /etc (`cleanup` undoes a partial one)."""
        config = self.config
        self._limit_whole_sample()
        self.mounts: dict[str, Path] = {}
        for inside in (config.workdir, *config.scratch_dirs):
            host = self.root / "fs" / inside.lstrip("/")
            host.mkdir(parents=True, exist_ok=True)
            self._own(host)
            self.mounts[posixpath.normpath(inside)] = host
        # /dev/shm is the sample's too, inside its disk and file limits (bwrap's own
        # /dev is an unlimited tmpfs).
        self.shm = self.root / "fs" / ".dev-shm"
        self.shm.mkdir()
        self._own(self.shm)
        self.shm.chmod(0o1777)
        self.binds: dict[str, Path] = {}
        """Host files bound in at a path inside a writable dir (`bind`), e.g. a server's
        socket."""
        self.shims: Path | None = None
        self.guard: GuardMounts | None = None
        """Set when the sample runs under a guard policy."""
        if config.remote_hosts:
            self._make_remote_hosts(config.remote_hosts)
        self.etc = self.root / "etc"
        self.etc.mkdir()
        home = config.workdir
        write_etc(self.etc, home)
        self.etc.chmod(0o755)

    @property
    def workdir(self) -> Path:
        """Host directory holding the agent's workdir."""
        return self.mounts[posixpath.normpath(self.config.workdir)]

    def inside_path(self, file: str, cwd: str | None = None) -> str:
        """Normalise a sandbox path: relative paths resolve against `cwd` or the workdir."""
        base = cwd if cwd is not None else self.config.workdir
        if not posixpath.isabs(base):
            base = posixpath.join(self.config.workdir, base)
        return posixpath.normpath(posixpath.join(base, file))

    def host_path(self, inside: str) -> tuple[Path, Path] | None:
        """Map an absolute sandbox path to `(host path, host mount root)`.

        Returns None when the path is not under a writable mount (e.g. `/usr/...`).
        """
        best: str | None = None
        for mount in self.mounts:
            if (inside == mount or inside.startswith(mount + "/")) and (
                best is None or len(mount) > len(best)
            ):
                best = mount
        if best is None:
            return None
        relative = posixpath.relpath(inside, best)
        host_root = self.mounts[best]
        return (host_root if relative == "." else host_root / relative), host_root

    def bind(self, host: Path, inside: str) -> None:
        """Bind the host file `host` (a server's socket, say) at `inside` in every command.

        A bind rather than a link: the sample's writable dirs may be their own
        filesystem (the tmpfs of `disk_bytes`), which no hard link can cross.

        Raises:
            SandboxError: If `inside` is not under one of the sandbox's writable dirs.
        """
        inside = self.inside_path(inside)
        if self.host_path(inside) is None:
            raise SandboxError(f"{inside} is not under one of the sandbox's writable dirs")
        self.binds[inside] = host

    @staticmethod
    def passes_symlink(host: Path, host_root: Path) -> bool:
        """Whether any existing component of `host` below `host_root` is a symlink."""
        current = host_root
        for part in host.relative_to(host_root).parts:
            current = current / part
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return True
            except FileNotFoundError:
                return False
        return False

    @property
    def agent_ids(self) -> tuple[int, int]:
        """The agent's host uid and gid (ours, without per-sample uids)."""
        if self.host_uid is not None:
            return self.host_uid, self.host_uid
        return os.getuid(), os.getgid()

    def make_parents(self, host: Path, host_root: Path) -> None:
        """Create missing parent directories of `host`, owned by the sandbox's uid."""
        owner = None if self.host_uid is None else (self.host_uid, self.host_uid)
        make_parents(host, host_root, owner)

    def write(self, host: Path, contents: bytes) -> None:
        """Write a file the agent will own, replacing what was there."""
        fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "wb", closefd=False) as handle:
                handle.write(contents)
            if self.host_uid is not None:
                os.fchown(fd, self.host_uid, self.host_uid)
        finally:
            os.close(fd)

    def protected_sources(self, paths: tuple[str, ...]) -> list[tuple[Path, str, bool]]:
        """Existing, symlink-free protected paths as `(host, inside, is_dir)`.

        A path that passes through a symlink is skipped: binding it would mount
        whatever host file the link names.
        """
        sources = []
        for path in paths:
            inside = self.inside_path(path)
            mapped = self.host_path(inside)
            if mapped is None:
                raise SandboxError(
                    f"protected path {path!r} is outside the sandbox's writable dirs"
                )
            host, host_root = mapped
            if host.exists() and not self.passes_symlink(host, host_root):
                sources.append((host, inside, host.is_dir()))
        return sources

    def cleanup(self) -> None:
        """Delete the tree (even parts made unreadable) and its tmpfs and memory cgroup."""
        try:
            if self.memory_cgroup is not None:
                self.memory_cgroup.close()
                self.memory_cgroup = None
        finally:
            if self.disk_quota:
                unmount(self.root / "fs")
                self.disk_quota = False
            remove_tree(self.root)

    def _limit_whole_sample(self) -> None:
        """The sample's own tmpfs and memory cgroup, where this process may make them."""
        if self.host_uid is None:
            return  # neither is possible without root (see `tripwire doctor --security`)
        fs = self.root / "fs"
        fs.mkdir()
        try:
            mount_tmpfs(fs, size_bytes=self.config.disk_bytes, inodes=self.config.max_files)
            self.disk_quota = True
        except OSError as ex:
            _warn_once(f"the sandbox's disk is not limited per sample ({ex})")
        if memory_cgroup_root() is not None:
            try:
                self.memory_cgroup = MemoryCgroup(self.config.sample_memory_bytes)
            except OSError as ex:
                _warn_once(f"the sandbox's memory is limited per process only ({ex})")

    def _make_remote_hosts(self, hosts: tuple[str, ...]) -> None:
        """One writable tree per simulated host, plus the shims that reach them."""
        net = self.root / "fs" / NET_DIR.lstrip("/")
        net.mkdir(parents=True, exist_ok=True)
        self._own(net)
        self.mounts[NET_DIR] = net
        for host in hosts:
            for part in (net / host, net / host / "home", net / host / "home" / "user"):
                part.mkdir(exist_ok=True)
                self._own(part)
        self.shims = self.root / "shims"
        self.shims.mkdir()
        for shim in files("tripwire.sandbox").joinpath("shims").iterdir():
            target = self.shims / shim.name
            target.write_bytes(shim.read_bytes())
            target.chmod(0o755)
        self.shims.chmod(0o755)

    def _own(self, path: Path) -> None:
        if self.host_uid is not None:
            os.chown(path, self.host_uid, self.host_uid)


ETC_FILES = ("passwd", "group", "hostname", "hosts")
"""The sandbox's own files in /etc (nothing of the host's users or network)."""


def write_etc(directory: Path, home: str) -> None:
    """Write `ETC_FILES` for a sandbox whose agent's home is `home`."""
    (directory / "passwd").write_text(_PASSWD.format(uid=AGENT_UID, service=SERVICE_UID, home=home))
    (directory / "group").write_text(_GROUP.format(uid=AGENT_UID, service=SERVICE_UID))
    (directory / "hostname").write_text("sandbox\n")
    (directory / "hosts").write_text("127.0.0.1 localhost sandbox\n::1 localhost\n")


def make_parents(path: Path, root: Path, owner: tuple[int, int] | None, mode: int = 0o777) -> None:
    """Create the missing directories between `root` and `path`, owned by `owner`."""
    missing = []
    parent = path.parent
    while parent != root and not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=mode)
        if owner is not None:
            os.chown(directory, *owner)


@cache
def _warn_once(message: str) -> None:
    logger.warning("%s; `tripwire doctor --security` lists what holds here", message)


def remove_tree(root: Path) -> None:
    """Delete a directory an agent wrote into, even parts it made unreadable."""
    if not root.exists():
        return

    def make_writable_and_retry(func: Callable[..., Any], path: str, exc_info: Any) -> None:
        # Only permission problems inside the tree are ours to fix; never touch
        # anything at or above the root.
        target = Path(path)
        if not isinstance(exc_info[1], PermissionError) or not target.is_relative_to(root):
            raise exc_info[1]
        for directory in {target.parent, target}:
            if directory != root.parent and not directory.is_symlink():
                directory.chmod(0o700)
        func(path)

    shutil.rmtree(root, onerror=make_writable_and_retry)


def traversable_temp_dir() -> str:
    """A temp directory every uid can pass through (the sandbox's uid must reach its tree)."""
    for candidate in (tempfile.gettempdir(), "/var/tmp", "/tmp", "/dev/shm"):
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & 0o001 for p in (path, *path.parents)):
            return str(path)
    raise SandboxError(
        "no temp directory is traversable by other users, which the sandbox's unprivileged "
        "uid needs: set TMPDIR to a directory with mode 0711 or wider (e.g. /var/tmp)."
    )
