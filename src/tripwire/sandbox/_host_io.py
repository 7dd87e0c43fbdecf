"""The harness's fast reads and writes of a sample's host tree, safe against a live agent.

The harness runs as root; the tree belongs to the agent, who may swap a directory for a
symlink to `/etc` between a check and an open. So a path is walked one component at a
time from the mount's root with `O_NOFOLLOW` file descriptors: a component that is a
symlink (now or by the time it is opened) raises `ThroughSymlink`, and the caller goes
through the sandbox instead, where the link resolves inside. Along the way each step is
checked against the agent's own permissions (`read_file`/`write_file` act as the
sandbox's default user).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["ThroughSymlink", "read_beneath", "write_beneath"]

_DIR_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class ThroughSymlink(Exception):
    """The path passes through a symlink: read or write it inside the sandbox instead."""


class _Agent:
    """The owner/group/other check of the kernel, for the agent's host uid and gid."""

    def __init__(self, uid: int, gid: int) -> None:
        self.uid = uid
        self.gid = gid

    def may(self, info: os.stat_result, wanted: int) -> bool:
        if info.st_uid == self.uid:
            bits = info.st_mode >> 6
        elif info.st_gid == self.gid:
            bits = info.st_mode >> 3
        else:
            bits = info.st_mode
        return bits & wanted == wanted


def _denied(path: Path) -> PermissionError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))


def _parent_fd(
    root: Path, parts: tuple[str, ...], agent: _Agent, *, create: bool, owner: int | None
) -> int:
    """An `O_PATH` descriptor of the directory holding the last of `parts`.

    Missing directories are made (owned by `owner`, when given) if `create`, else
    `FileNotFoundError`.
    """
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            if not agent.may(os.fstat(fd), os.X_OK):
                raise _denied(root.joinpath(*parts))
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                if not agent.may(os.fstat(fd), os.W_OK | os.X_OK):
                    raise _denied(root.joinpath(*parts)) from None
                os.mkdir(part, 0o755, dir_fd=fd)
                if owner is not None:
                    os.chown(part, owner, owner, dir_fd=fd, follow_symlinks=False)
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as ex:
                if ex.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(part, fd):
                    raise ThroughSymlink(part) from ex
                raise
            os.close(fd)
            fd = child
        if not agent.may(os.fstat(fd), os.X_OK):
            raise _denied(root.joinpath(*parts))
        return fd
    except BaseException:
        os.close(fd)
        raise


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_beneath(root: Path, host: Path, uid: int, gid: int, limit: int) -> bytes:
    """The bytes of `host` (below the mount root `root`), as the agent may read them.

    Raises:
        ThroughSymlink: A component is a symlink.
        FileNotFoundError, IsADirectoryError, PermissionError: As the agent would get.
        OverflowError: The file is larger than `limit` bytes.
    """
    parts = host.relative_to(root).parts
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(host))
    agent = _Agent(uid, gid)
    parent = _parent_fd(root, parts, agent, create=False, owner=None)
    try:
        try:
            fd = os.open(
                parts[-1],
                os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                dir_fd=parent,
            )
        except OSError as ex:
            if ex.errno == errno.ELOOP:
                raise ThroughSymlink(parts[-1]) from ex
            raise
    finally:
        os.close(parent)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(host))
        if not stat.S_ISREG(info.st_mode):
            raise PermissionError(errno.EACCES, "not a regular file", str(host))
        if not agent.may(info, os.R_OK):
            raise _denied(host)
        if info.st_size > limit:
            raise OverflowError(info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    finally:
        os.close(fd)


def write_beneath(
    root: Path, host: Path, data: bytes, uid: int, gid: int, owner: int | None
) -> None:
    """Write `data` to `host` (below `root`) as the agent may, making missing parents.

    Args:
        root: The mount's host root.
        host: The file.
        data: Its new contents.
        uid: The agent's host uid (for the permission check).
        gid: The agent's host gid.
        owner: Host uid to own new files and directories (None: ours).

    Raises:
        ThroughSymlink: A component is a symlink.
        IsADirectoryError, PermissionError: As the agent would get.
    """
    parts = host.relative_to(root).parts
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(host))
    agent = _Agent(uid, gid)
    parent = _parent_fd(root, parts, agent, create=True, owner=owner)
    try:
        name = parts[-1]
        try:
            existing: os.stat_result | None = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None:
            if stat.S_ISLNK(existing.st_mode):
                raise ThroughSymlink(name)
            if stat.S_ISDIR(existing.st_mode):
                raise IsADirectoryError(errno.EISDIR, "Is a directory", str(host))
            if not agent.may(existing, os.W_OK):
                raise _denied(host)
        elif not agent.may(os.fstat(parent), os.W_OK | os.X_OK):
            raise _denied(host)
        try:
            fd = os.open(
                name,
                os.O_WRONLY
                | os.O_CREAT
                | os.O_TRUNC
                | os.O_NOFOLLOW
                | os.O_NONBLOCK
                | os.O_CLOEXEC,
                0o644,
                dir_fd=parent,
            )
        except OSError as ex:
            if ex.errno == errno.ELOOP:
                raise ThroughSymlink(name) from ex
            raise
    finally:
        os.close(parent)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PermissionError(errno.EACCES, "not a regular file", str(host))
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
        if owner is not None and existing is None:
            os.fchown(fd, owner, owner)
    finally:
        os.close(fd)
