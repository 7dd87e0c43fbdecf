"""The sandbox of a supervised run: what is mounted where, and the `bwrap` command line.

Inside, the agent sees the read-only system, its working directory (read-write, at the
same path as on the host), a private home and `/tmp`, the planted decoys, and the shim
in place of `bash` and `dash`. Protected files in the working directory are mounted
read-only over themselves; hidden ones are covered. The run's directory (audit log, key,
sockets the supervisor owns) is never mounted; only the shim's socket directory is, and
read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tripwire.sandbox._command import cover, sandbox_prologue
from tripwire.sandbox._tree import AGENT_UID, write_etc

from ._shim import rc_file

__all__ = [
    "CHECK_PATH",
    "RC_PATH",
    "REAL_SHELL_DIR",
    "SOCKET_DIR",
    "RunLayout",
    "real_shells",
    "shim_binds",
]

SOCKET_DIR = "/run/tripwire"
"""Where the shim finds `guard.sock` inside the sandbox (a read-only mount)."""

REAL_SHELL_DIR = "/opt/tripwire/real"
"""Where the real shells are kept inside the sandbox, for the shim to run."""

CHECK_PATH = "/opt/tripwire/bin/tripwire-check"
"""The shim in its other role: `tripwire-check COMMAND` asks about one command line."""

RC_PATH = "/opt/tripwire/guard.bashrc"
"""The rc file of session shells (their DEBUG trap runs `CHECK_PATH`)."""

_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"
_SHELLS = ("/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash")


def real_shells() -> dict[str, str]:
    """`{host path of a real shell binary: its name}` for bash and dash on this host."""
    found: dict[str, str] = {}
    for path in _SHELLS:
        if os.path.exists(path):
            real = os.path.realpath(path)
            name = os.path.basename(real)
            if name in ("bash", "dash"):
                found[real] = name
    return found


def shim_binds(shim: Path, socket_dir: Path) -> list[str]:
    """`bwrap` options for the shim: in place of bash and dash, real shells kept aside.

    The real shells go to `REAL_SHELL_DIR`; the supervisor's socket directory is mounted
    read-only at `SOCKET_DIR`.
    """
    argv = [
        "--ro-bind", str(socket_dir), SOCKET_DIR,
        "--ro-bind", str(shim), CHECK_PATH,
        "--ro-bind", str(rc_file(shim)), RC_PATH,
    ]  # fmt: skip
    for real, name in real_shells().items():
        argv += ["--ro-bind", real, f"{REAL_SHELL_DIR}/{name}", "--ro-bind", str(shim), real]
    return argv


@dataclass
class RunLayout:
    """Everything the sandbox of one run mounts, and the `bwrap` command line for it."""

    workdir: str
    """The agent's working directory (host path = sandbox path)."""
    host_dir: Path
    """Host directory holding what the sandbox mounts from the run (its home, `/tmp`,
    `/etc` files, the socket directory, decoys); never mounted whole."""
    socket_dir: Path = Path()
    """Host directory of the shim's (and egress proxy's) sockets, mounted read-only at
    `SOCKET_DIR`. Short, because a unix socket's path is limited to 107 bytes."""
    home: str = "/home/agent"
    """The agent's home inside the sandbox."""
    shim: Path | None = None
    """The compiled shell shim."""
    protect: list[str] = field(default_factory=list)
    """Paths in the workdir mounted read-only over themselves."""
    hide: list[str] = field(default_factory=list)
    """Paths in the workdir covered (empty directory or /dev/null)."""
    decoys: dict[str, Path] = field(default_factory=dict)
    """`{sandbox path: host file}` of planted decoys."""
    extra_ro: dict[str, str] = field(default_factory=dict)
    """Further read-only mounts `{sandbox path: host path}` (tools the agent needs)."""
    extra_rw: dict[str, str] = field(default_factory=dict)
    """Further read-write mounts `{sandbox path: host path}`."""
    env: dict[str, str] = field(default_factory=dict)
    """The agent's environment besides PATH, HOME, USER, LANG, TERM and SHELL."""

    @property
    def home_dir(self) -> Path:
        """Host directory that is the agent's home."""
        return self.host_dir / "home"

    @property
    def tmp_dir(self) -> Path:
        """Host directory that is the agent's `/tmp`."""
        return self.host_dir / "tmp"

    @property
    def etc_dir(self) -> Path:
        """Host directory with the sandbox's passwd, group, hostname and hosts."""
        return self.host_dir / "etc"

    def mounts(self) -> dict[str, Path]:
        """The writable mounts, `{sandbox path: host dir}`, for the guard's file view."""
        return {
            "/tmp": self.tmp_dir,
            self.home: self.home_dir,
            self.workdir: Path(self.workdir),
            **{inside: host for inside, host in self.decoys.items()},
            **{inside: Path(host) for inside, host in self.extra_rw.items()},
        }

    def prepare(self, owner: tuple[int, int] | None) -> None:
        """Create the run's host directories, owned by the agent's host uid if given."""
        for directory in (self.home_dir, self.tmp_dir, self.etc_dir):
            directory.mkdir(mode=0o755, exist_ok=True)
        self.tmp_dir.chmod(0o1777)
        if owner is not None:
            os.chown(self.home_dir, *owner)
        write_etc(self.etc_dir, self.home)

    def argv(self, command: list[str], *, info_fd: int, term: str | None) -> list[str]:
        """The `bwrap` command line running `command` in this layout."""
        argv = [
            *sandbox_prologue(AGENT_UID, self.etc_dir),
            "--unshare-user",
            "--disable-userns",
            "--info-fd",
            str(info_fd),
        ]
        argv += ["--bind", str(self.tmp_dir), "/tmp", "--bind", str(self.tmp_dir), "/var/tmp"]
        argv += ["--bind", str(self.home_dir), self.home]
        argv += ["--bind", self.workdir, self.workdir]
        for path in self.protect:
            argv += ["--ro-bind", path, path]
        for path in self.hide:
            argv += cover(path, os.path.isdir(path))
        for inside, host in self.decoys.items():
            argv += ["--bind", str(host), inside]
        for inside, host_path in self.extra_ro.items():
            argv += ["--ro-bind", host_path, inside]
        for inside, host_path in self.extra_rw.items():
            argv += ["--bind", host_path, inside]
        if self.shim is not None:
            argv += shim_binds(self.shim, self.socket_dir)
        argv += ["--remount-ro", "/", "--chdir", self.workdir, "--clearenv"]
        env = {
            "PATH": _PATH,
            "HOME": self.home,
            "USER": "agent",
            "LOGNAME": "agent",
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "TERM": term or "dumb",
            "TRIPWIRE_SUPERVISED": "1",
            **self.env,
        }
        for key, value in env.items():
            argv += ["--setenv", key, value]
        return [*argv, "--", *command]
