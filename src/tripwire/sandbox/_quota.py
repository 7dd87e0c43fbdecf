"""Whole-sample limits the per-process rlimits cannot give: memory and disk.

RLIMIT_AS bounds one process, so 200 processes under it can still take the host's
memory; RLIMIT_FSIZE bounds one file, so many files can still fill its disk. Run as root,
each sample gets a memory cgroup (every process of the sample is charged to it, and the
kernel's OOM killer stops the largest when the sample passes its limit) and a size- and
inode-limited tmpfs under its tree (a full disk or a million files end with `No space
left on device` inside that tmpfs only). Without root neither is possible; `quota_status`
says so, for `tripwire doctor --security`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import secrets
import shutil
import signal
import time
from functools import cache
from pathlib import Path

__all__ = ["MemoryCgroup", "memory_cgroup_root", "mount_tmpfs", "sweep_stale", "unmount"]

_MNT_DETACH = 2


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def mount_tmpfs(target: Path, *, size_bytes: int, inodes: int) -> None:
    """Mount a tmpfs of at most `size_bytes` and `inodes` files on `target` (root only).

    Raises:
        OSError: If the kernel refuses (not root, or no mount permission).
    """
    options = f"size={size_bytes},nr_inodes={inodes},mode=0755".encode()
    if _libc().mount(b"tmpfs", os.fsencode(target), b"tmpfs", 0, options) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"cannot mount a tmpfs on {target}: {os.strerror(code)}")


def unmount(target: Path) -> None:
    """Detach the mount on `target` (lazily, so a process still inside cannot block it)."""
    if _libc().umount2(os.fsencode(target), _MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOENT):  # not a mount point (any more)
            raise OSError(code, f"cannot unmount {target}: {os.strerror(code)}")


@cache
def memory_cgroup_root() -> tuple[Path, str] | None:
    """Where this process may create memory cgroups: `(directory, version)`, or None.

    cgroup v2 (the unified hierarchy at /sys/fs/cgroup with the memory controller) or
    v1 (the `memory` hierarchy); the directory is this process's own cgroup, which must
    be writable (root).
    """
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            if (base / "memory.limit_in_bytes").exists() and os.access(base, os.W_OK):
                return base, "v1"
    unified = Path("/sys/fs/cgroup")
    for line in lines:
        if line.startswith("0::"):
            base = unified / line[3:].lstrip("/")
            available = unified / "cgroup.controllers"
            if (
                available.exists()
                and "memory" in available.read_text().split()
                and "memory" in _read(base / "cgroup.subtree_control").split()
                and os.access(base, os.W_OK)
            ):
                return base, "v2"
    return None


class MemoryCgroup:
    """One sample's memory cgroup: every process the sample starts is charged to it.

    Args:
        limit_bytes: Memory (and, where the kernel accounts it, swap) for the whole
            sample.

    Raises:
        OSError: If no writable memory cgroup hierarchy is available.
    """

    def __init__(self, limit_bytes: int) -> None:
        found = memory_cgroup_root()
        if found is None:
            raise OSError(errno.ENOTSUP, "no writable memory cgroup here")
        base, self.version = found
        # Named by our pid, so a later run can tell a killed run's leftovers (`sweep_stale`).
        self.path = base / f"tripwire-{os.getpid()}-{secrets.token_hex(6)}"
        self.path.mkdir()
        try:
            if self.version == "v1":
                (self.path / "memory.limit_in_bytes").write_text(str(limit_bytes))
                # Without this the sample could page out to swap past its limit.
                with contextlib.suppress(OSError):
                    (self.path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
            else:
                (self.path / "memory.max").write_text(str(limit_bytes))
                with contextlib.suppress(OSError):
                    (self.path / "memory.swap.max").write_text("0")
        except OSError:
            self.close()
            raise

    @property
    def procs_file(self) -> Path:
        """Writing a pid here moves that process (and its future children) in."""
        return self.path / "cgroup.procs"

    def limit_hits(self) -> int:
        """How often the sample ran into its memory limit (refusals or kills); only grows."""
        counts = [0]
        if self.version == "v1":
            for name in ("memory.failcnt", "memory.memsw.failcnt"):
                value = _read(self.path / name).strip()
                counts.append(int(value) if value.isdigit() else 0)
            events = "memory.oom_control"
        else:
            events = "memory.events"
        for line in _read(self.path / events).splitlines():
            name, _, value = line.partition(" ")
            if name in ("oom_kill", "max") and value.strip().isdigit():
                counts.append(int(value))
        return max(counts)

    def close(self) -> None:
        """Kill what is left in the cgroup and remove it (waits up to about 2 s)."""
        for _ in range(100):
            pids = [int(p) for p in _read(self.procs_file).split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            if not pids:
                try:
                    self.path.rmdir()
                    return
                except FileNotFoundError:
                    return
                except OSError as ex:
                    if ex.errno != errno.EBUSY:
                        raise
            time.sleep(0.02)
        raise OSError(errno.EBUSY, f"cgroup {self.path} still has processes")


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


_OWNED = re.compile(r"tripwire-(?:bwrap-)?(\d+)-")


def _dead(name: str) -> bool:
    found = _OWNED.search(name)
    return found is not None and not Path(f"/proc/{found.group(1)}").exists()


@cache
def sweep_stale() -> int:
    """Remove the tmpfs mounts and memory cgroups of tripwire processes that were killed.

    A run stopped by SIGKILL cannot clean up: its samples' tmpfs (memory) stays mounted
    and its cgroups stay. Each is named by the pid that made it; those of dead pids go.
    Runs once per process; returns how many were removed.
    """
    removed = 0
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        mounts = []
    for line in mounts:
        fields = line.split()
        if len(fields) > 2 and fields[2] == "tmpfs" and "/tripwire-bwrap-" in fields[1]:
            target = Path(fields[1].replace("\\040", " "))
            if target.name == "fs" and _dead(target.parent.name):
                with contextlib.suppress(OSError):
                    unmount(target)
                    shutil.rmtree(target.parent, ignore_errors=True)
                    removed += 1
    found = memory_cgroup_root()
    if found is not None:
        for group in found[0].glob("tripwire-*"):
            if _dead(group.name):
                with contextlib.suppress(OSError):
                    group.rmdir()
                    removed += 1
    return removed
