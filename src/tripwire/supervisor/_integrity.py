"""The integrity watch: protected and watched files, hashed, checked after each command.

A change is seen by `lstat` first (inode, size, mtime, ctime, mode, owner: ctime moves
on every write and cannot be set back by the agent), then confirmed by SHA-256, so the
check after each command costs microseconds per file.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tripwire.guard._glob import PathSet

__all__ = ["FileChange", "IntegrityWatch", "scan_matches"]

_HASH_CHUNK = 1 << 20
_MAX_HASHED = 256 << 20  # past this, hashing after every command would stall the run


@dataclass(frozen=True)
class _Seen:
    ident: tuple[int, ...]
    digest: str | None  # None: not a regular file (a directory, a link)


@dataclass(frozen=True)
class FileChange:
    """One change to a watched file."""

    path: str
    """The file (the same path inside the sandbox and on the host)."""
    change: str
    """`modified`, `deleted`, `replaced`, `permissions changed` or `created`."""


def _ident(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode, st.st_uid)


def _digest(path: str, st: os.stat_result) -> str | None:
    """SHA-256 of a regular file as `lstat` saw it; never blocks on what the agent made.

    The agent controls these files: between `lstat` and `open` it can swap in a FIFO, a
    link to `/dev/zero`, or hold a lease that makes a plain `open` wait; a huge sparse
    file would take seconds to hash. So: no following links, no blocking, the same inode
    as seen, at most `st_size` bytes, and past `_MAX_HASHED` the size and times stand
    in for the content.
    """
    if stat.S_ISLNK(st.st_mode):
        try:
            return "link:" + os.readlink(path)
        except OSError:
            return "unreadable"
    if not stat.S_ISREG(st.st_mode):
        return None
    if st.st_size > _MAX_HASHED:
        return f"large:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:  # unreadable now (chmod 000), swapped, or leased: a change
        return "unreadable"
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or now.st_ino != st.st_ino:
            return "swapped"
        digest = hashlib.sha256()
        left = st.st_size
        while left > 0 and (chunk := os.read(fd, min(_HASH_CHUNK, left))):
            digest.update(chunk)
            left -= len(chunk)
        return digest.hexdigest()
    except OSError:
        return "unreadable"
    finally:
        os.close(fd)


def scan_matches(root: Path, patterns: PathSet, *, limit: int) -> tuple[list[str], bool]:
    """Paths under `root` (files and directories) that `patterns` match.

    A matching directory stands for everything below it. Returns the matches and
    whether the walk stopped at `limit` entries.
    """
    found: list[str] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        keep = []
        for name in dirnames:
            path = os.path.join(dirpath, name)
            seen += 1
            if patterns.matches(path):
                found.append(path)
            else:
                keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            seen += 1
            path = os.path.join(dirpath, name)
            if patterns.matches(path):
                found.append(path)
        if seen > limit:
            return found, True
    return found, False


@dataclass
class IntegrityWatch:
    """Remembers watched files and reports each change once.

    Args:
        root: The working directory, scanned for files the patterns match.
        patterns: What to watch.
        limit: Entries scanned at most.
    """

    root: Path
    patterns: PathSet
    limit: int
    _files: dict[str, _Seen] = field(default_factory=dict)
    truncated: bool = False
    """Whether the first scan stopped at `limit` (then not every match is watched)."""
    written: set[str] = field(default_factory=set)
    """Files something wrote to since the last check (from inotify): a write whose
    content was restored before the check is still a change."""

    def start(self) -> list[str]:
        """Take the baseline; returns the watched paths."""
        matches, self.truncated = scan_matches(self.root, self.patterns, limit=self.limit)
        for path in matches:
            self._add_tree(path)
        return sorted(self._files)

    def _add_tree(self, path: str) -> None:
        # The directories above a watched file too: `chmod 000` on one hides the file
        # from whatever reads it (an agent's hook settings) without touching the file.
        parent = os.path.dirname(path)
        while parent != str(self.root) and parent.startswith(str(self.root) + "/"):
            if parent not in self._files:
                self._remember(parent)
            parent = os.path.dirname(parent)
        self._remember(path)
        if os.path.isdir(path) and not os.path.islink(path):
            for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
                for name in (*dirnames, *filenames):
                    self._remember(os.path.join(dirpath, name))

    def _remember(self, path: str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            return
        self._files[path] = _Seen(_ident(st), _digest(path, st))

    def regular_files(self) -> list[str]:
        """The watched paths that are regular files (what a write watch can follow)."""
        return [p for p in self._files if os.path.isfile(p) and not os.path.islink(p)]

    @property
    def paths(self) -> list[str]:
        """The watched paths."""
        return sorted(self._files)

    def check(self) -> list[FileChange]:
        """Compare every watched file with what was last seen (cheap when nothing moved)."""
        changes = []
        for path, seen in list(self._files.items()):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                changes.append(FileChange(path, "deleted"))
                del self._files[path]
                continue
            except OSError:
                continue
            ident = _ident(st)
            written = path in self.written
            self.written.discard(path)
            if ident == seen.ident and not written:
                continue
            digest = _digest(path, st)
            self._files[path] = _Seen(ident, digest)
            if ident[0] != seen.ident[0]:
                changes.append(FileChange(path, "replaced"))
            elif digest != seen.digest:
                changes.append(FileChange(path, "modified"))
            elif ident[4:] != seen.ident[4:]:
                changes.append(FileChange(path, "permissions changed"))
            elif written:
                changes.append(FileChange(path, "written (its content restored since)"))
            # Same content and mode, only times moved (touch, open for write): not a change.
        return changes

    def find(self) -> list[str]:
        """Walk the workdir for paths the patterns match (no state: safe in a thread).

        Sets `truncated` when the walk stopped at `limit` entries.
        """
        found, self.truncated = scan_matches(self.root, self.patterns, limit=self.limit)
        return found

    def admit(self, matches: list[str]) -> list[FileChange]:
        """Watch those of `matches` not watched yet; each is a `created` change."""
        created: list[FileChange] = []
        for path in matches:
            before = set(self._files)
            self._add_tree(path)
            created.extend(FileChange(p, "created") for p in sorted(set(self._files) - before))
        return created

    def rescan(self) -> list[FileChange]:
        """Look for new files the patterns match (created since the baseline)."""
        return self.admit(self.find())
