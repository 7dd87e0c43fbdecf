"""The command line that runs one agent command inside `bwrap`."""

from __future__ import annotations

import contextlib
import os
import posixpath
import resource
import shutil
from functools import cache
from pathlib import Path

from tripwire._errors import BwrapNotFoundError

from ._config import SHIM_DIR, BwrapConfig
from ._tree import AGENT_UID, ETC_FILES, SERVICE_UID, SampleTree

__all__ = [
    "READY_MARKER",
    "bwrap_argv",
    "cover",
    "require_bwrap",
    "rlimit_values",
    "sandbox_prologue",
]

READY_MARKER = "\x1etripwire-sandbox-ready\x1e"
"""Written to stderr inside the sandbox before the command starts. Its absence tells a
sandbox that failed to start (a bwrap error) apart from a command that failed."""

_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

# System directories the sandbox sees read-only, as the host has them (a merged-/usr
# host has symlinks here, which we copy as symlinks).
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

# Host files in /etc that programs need to run (dynamic linker cache, alternatives
# such as `awk`, time zone); nothing that describes the host's users or network.
_HOST_ETC = ("/etc/alternatives", "/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf")


def require_bwrap() -> str:
    """The path of `bwrap`, or a one-line error saying how to install it."""
    path = shutil.which("bwrap")
    if path is None:
        raise BwrapNotFoundError()
    return path


@cache
def _system_binds() -> tuple[str, ...]:
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for directory in _SYSTEM_DIRS:
        if os.path.islink(directory):
            args += ["--symlink", os.readlink(directory), directory]
        elif os.path.isdir(directory):
            args += ["--ro-bind", directory, directory]
    for path in _HOST_ETC:
        args += ["--ro-bind-try", path, path]
    return tuple(args)


def rlimit_values(
    *,
    memory_bytes: int,
    max_file_bytes: int,
    max_open_files: int,
    max_processes: int,
    cpu_seconds: int | None,
    shared_uid: bool,
) -> dict[int, int]:
    """`{RLIMIT_*: value}` for a sandbox; never above the current hard limits (that fails).

    Args:
        memory_bytes: Address space per process (RLIMIT_AS).
        max_file_bytes: Largest file a process may write (RLIMIT_FSIZE).
        max_open_files: Open descriptors per process (RLIMIT_NOFILE).
        max_processes: Processes the sandbox may run (RLIMIT_NPROC).
        cpu_seconds: CPU seconds per process (RLIMIT_CPU); None for no limit.
        shared_uid: The sandbox runs as our own host uid, whose other processes count
            towards RLIMIT_NPROC: they are added to the sandbox's allowance.
    """
    nproc = max_processes + (_count_own_processes() if shared_uid else 0)
    wanted = {
        resource.RLIMIT_AS: memory_bytes,
        resource.RLIMIT_FSIZE: max_file_bytes,
        resource.RLIMIT_NOFILE: max_open_files,
        resource.RLIMIT_NPROC: nproc,
    }
    if cpu_seconds is not None:
        wanted[resource.RLIMIT_CPU] = cpu_seconds
    values = {}
    for limit, value in wanted.items():
        hard = resource.getrlimit(limit)[1]
        values[limit] = value if hard == resource.RLIM_INFINITY else min(value, hard)
    return values


_PRLIMIT_OPTIONS = {
    resource.RLIMIT_AS: "--as",
    resource.RLIMIT_FSIZE: "--fsize",
    resource.RLIMIT_NOFILE: "--nofile",
    resource.RLIMIT_CPU: "--cpu",
    resource.RLIMIT_NPROC: "--nproc",
}


def _limits(config: BwrapConfig, host_uid: int | None) -> list[str]:
    """`prlimit` options for the sample's limits."""
    values = rlimit_values(
        memory_bytes=config.memory_bytes,
        max_file_bytes=config.max_file_bytes,
        max_open_files=config.max_open_files,
        max_processes=config.max_processes,
        cpu_seconds=config.cpu_seconds,
        shared_uid=host_uid is None,
    )
    return [f"{_PRLIMIT_OPTIONS[limit]}={value}" for limit, value in values.items()]


def sandbox_prologue(uid: int, etc: Path) -> list[str]:
    """`bwrap` and the options every sandbox of ours starts with.

    Own namespaces, no network, a new session, the read-only system, `/proc`, `/dev`
    and the sandbox's own files in `/etc` (from `etc` on the host).
    """
    argv = [
        require_bwrap(),
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--uid",
        str(uid),
        "--gid",
        str(uid),
        *_system_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    for name in ETC_FILES:
        argv += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    return argv


def cover(path: str, is_dir: bool) -> list[str]:
    """Options hiding `path`: an empty read-only directory, or /dev/null over a file."""
    if is_dir:
        return ["--tmpfs", path, "--remount-ro", path]
    return ["--ro-bind", "/dev/null", path]


def _count_own_processes() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # the process exited meanwhile
                count += entry.stat().st_uid == uid
    return count


def bwrap_argv(
    tree: SampleTree,
    cmd: list[str],
    *,
    cwd: str,
    env: dict[str, str] | None = None,
    uid: int = AGENT_UID,
    guarded: bool = True,
) -> list[str]:
    """The full host command line running `cmd` in the sample's sandbox.

    Args:
        tree: The sample's host tree.
        cmd: Command and arguments, run inside with the sandbox's PATH.
        cwd: Absolute working directory inside the sandbox.
        env: Extra environment variables (the host environment is never passed in).
        uid: The uid inside the sandbox: the agent's, 0 for `user="root"`, or
            `SERVICE_UID` for the second account (which needs a host-root harness).
        guarded: Whether the tree's guard (if it has one) applies. It only ever applies
            to the agent's uid; False for the harness's own reads and writes as the
            agent, which must neither ask the guard nor see the decoys.
    """
    config = tree.config
    guard = tree.guard if guarded and uid == AGENT_UID else None
    # Nothing of the harness's environment reaches the sandbox, not even through
    # bwrap's own init process (its /proc/1/environ is readable inside).
    argv: list[str] = ["env", "-i", "-C", "/", f"PATH={_PATH}"]
    if tree.memory_cgroup is not None:
        # Into the sample's memory cgroup first, while still root; children follow.
        argv += ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(tree.memory_cgroup.procs_file)]
    host_uid = tree.service_host_uid if uid == SERVICE_UID else tree.host_uid
    if uid == SERVICE_UID and host_uid is None:
        raise ValueError("the service account needs tripwire to run as root")
    if host_uid is not None:
        # Running as host root: drop to the sample's own unprivileged uid, so the
        # process limit is enforced (root is exempt) and a breakout gains nothing.
        argv += [
            "setpriv",
            f"--reuid={host_uid}",
            f"--regid={host_uid}",
            "--clear-groups",
            "--",
        ]
    argv += ["prlimit", *_limits(config, host_uid), "--"]
    argv += sandbox_prologue(uid, tree.etc)
    for inside, host in tree.mounts.items():
        argv += ["--bind", str(host), inside]
    for inside, host in tree.binds.items():
        argv += ["--bind", str(host), inside]
    # Nothing the agent writes escapes the sample's limits through /dev.
    argv += ["--bind", str(tree.shm), "/dev/shm", "--remount-ro", "/dev"]
    if tree.shims is not None:
        argv += ["--ro-bind", str(tree.shims), SHIM_DIR]
    argv += _protected(tree, config.readonly_paths, config.hidden_paths)
    if guard is not None:
        argv += _protected(tree, guard.readonly, guard.hidden)
        argv += guard.binds
    # The root itself (a tmpfs holding the mount points) is read-only to the agent.
    argv += ["--remount-ro", "/", "--chdir", cwd, "--clearenv"]
    base_env = {
        "PATH": _PATH if tree.shims is None else f"{SHIM_DIR}:{_PATH}",
        "HOME": config.workdir,
        "USER": {0: "root", SERVICE_UID: "service"}.get(uid, "agent"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }
    for key, value in {**base_env, **(env or {})}.items():
        argv += ["--setenv", key, value]
    shell = guard.shell if guard is not None else "/bin/sh"
    argv += ["--", shell, "-c", f"printf '{_printf_escape(READY_MARKER)}' >&2; exec \"$@\""]
    argv += ["sh", *cmd]
    return argv


def _protected(tree: SampleTree, readonly: tuple[str, ...], hidden: tuple[str, ...]) -> list[str]:
    """Read-only mounts over `readonly` paths, empty ones over `hidden` paths.

    Each directory between a writable mount and a protected path is first bound onto
    itself: a mount point cannot be renamed or removed, so the agent cannot move the
    protected file away with its parent (`mv protected moved`) and put its own in its
    place, nor uncover a hidden one that way.
    """
    readonly_sources = tree.protected_sources(readonly)
    hidden_sources = tree.protected_sources(hidden)
    argv: list[str] = []
    pinned: set[str] = set()
    for _, inside, _ in [*readonly_sources, *hidden_sources]:
        for directory in _between_mount_and(tree, inside):
            if directory not in pinned:
                pinned.add(directory)
                mapped = tree.host_path(directory)
                assert mapped is not None  # below a mount, as protected_sources checked
                argv += ["--bind", str(mapped[0]), directory]
    for host, inside, _ in readonly_sources:
        argv += ["--ro-bind", str(host), inside]
    for _, inside, is_dir in hidden_sources:
        argv += cover(inside, is_dir)
    return argv


def _between_mount_and(tree: SampleTree, inside: str) -> list[str]:
    """The directories strictly between `inside`'s writable mount and it, outermost first."""
    directories = []
    parent = posixpath.dirname(inside)
    while parent not in tree.mounts and parent not in ("/", ""):
        directories.append(parent)
        parent = posixpath.dirname(parent)
    return directories[::-1]


def _printf_escape(text: str) -> str:
    return "".join(f"\\{ord(c):03o}" if not c.isalnum() and c != "-" else c for c in text)
