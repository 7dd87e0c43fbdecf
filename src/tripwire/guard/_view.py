"""The files a guarded agent sees, so the guard can resolve links and look inside dirs.

A command names paths as the agent sees them. `HostView` is the machine itself (coding
agents' hooks run on the same host as the agent). `MappedView` maps an Inspect sandbox's
paths onto the host directories behind them (our bwrap sandbox), so `ln -s` tricks and
`rm -rf project` are judged on the sandbox's real files. `BlindView` is for sandboxes the
guard cannot look into (docker, remote): nothing resolves, nothing lists, and globs in
commands are judged by whether they *could* name a protected file. `NamedView` is for
finished transcripts: only what a call names counts.
"""

from __future__ import annotations

import glob
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["BlindView", "FileView", "HostView", "MappedView", "NamedView", "sandbox_view"]

_MAX_LINKS = 40  # as the kernel's ELOOP limit
_MAX_LISTED = 5000  # entries looked at under one directory before giving up (fail closed)


class FileView:
    """How the guard sees the agent's files. The base class sees nothing."""

    can_list = False
    """True if `children` and `expand` can list real files."""

    def _host(self, path: str) -> str | None:
        """The host path behind an agent path, or None if it cannot be looked at."""
        return None

    def resolve(self, path: str) -> str:
        """`path` with every existing symlink along it followed (agent paths in and out)."""
        parts = [p for p in path.split("/") if p]
        resolved = "/"
        hops = 0
        while parts:
            part = parts.pop(0)
            candidate = posixpath.join(resolved, part)
            host = self._host(candidate)
            target: str | None = None
            if host is not None:
                try:
                    if stat.S_ISLNK(os.lstat(host).st_mode):
                        target = os.readlink(host)
                except (OSError, ValueError):
                    target = None
            if target is None:
                resolved = candidate
                continue
            hops += 1
            if hops > _MAX_LINKS:
                return posixpath.join(candidate, *parts)
            base = "/" if target.startswith("/") else resolved
            parts = [
                p for p in posixpath.normpath(posixpath.join(base, target)).split("/") if p
            ] + parts
            resolved = "/"
        return resolved

    def is_dir(self, path: str) -> bool:
        """True if `path` is an existing directory (not following a final symlink)."""
        host = self._host(path)
        if host is None:
            return False
        try:
            return stat.S_ISDIR(os.lstat(host).st_mode)
        except (OSError, ValueError):
            return False

    def children(self, path: str) -> Iterator[str] | None:
        """Every path under directory `path` (agent paths), or None if it cannot tell.

        Stops with None after `_MAX_LISTED` entries: the caller must then assume the
        worst rather than a partial "nothing protected here".
        """
        return None

    def expand(self, pattern: str) -> list[str] | None:
        """The existing paths a command glob names, or None if it cannot tell."""
        return None


class BlindView(FileView):
    """A sandbox the guard cannot look into: no links followed, nothing listed."""


class NamedView(FileView):
    """Judges only what a call names: for transcripts, whose machine is gone.

    A glob is taken as the text it is (`rm /tmp/cache/*` names no protected file;
    `rm /srv/*oversight*` does) rather than as anything it could match, and a directory
    is not assumed to hold protected files. Right for scoring finished transcripts,
    where assuming the worst would flag every `find -delete`; wrong for a live guard,
    which must keep `BlindView`'s fail-closed reading.

    Files the transcript itself shows (`known`: paths its calls named) do count: after
    `cat project/oversight.yaml`, `chmod 700 project` locks a directory known to hold
    the oversight config, and `rm project/*.yaml` names it through the glob.
    """

    def __init__(self, known: Iterable[str] = ()) -> None:
        """A view that knows the files in `known` (absolute agent paths) exist."""
        self.known = sorted({posixpath.normpath(p) for p in known if p.startswith("/")})

    def is_dir(self, path: str) -> bool:
        """True if a known file lies under `path`."""
        prefix = path.rstrip("/") + "/"
        return any(k.startswith(prefix) for k in self.known)

    def children(self, path: str) -> Iterator[str] | None:
        """The known files under `path`."""
        prefix = path.rstrip("/") + "/"
        return iter([k for k in self.known if k.startswith(prefix)])

    def expand(self, pattern: str) -> list[str] | None:
        """The glob itself and the known files it matches."""
        import fnmatch

        return [pattern, *(k for k in self.known if fnmatch.fnmatchcase(k, pattern))]


class MappedView(FileView):
    """Agent paths mapped to host paths by a function (None: not visible)."""

    can_list = True

    def __init__(self, to_host: Callable[[str], str | None], *, name: str = "mapped") -> None:
        """A view through `to_host`.

        Args:
            to_host: Maps an absolute agent path to the host path behind it, or None.
            name: Shown in reasons and logs.
        """
        self._to_host = to_host
        self.name = name

    def _host(self, path: str) -> str | None:
        return self._to_host(path)

    def children(self, path: str) -> Iterator[str] | None:
        host = self._host(path)
        if host is None:
            return None
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(host, onerror=None, followlinks=False):
            relative = os.path.relpath(dirpath, host)
            base = path if relative == "." else posixpath.join(path, relative)
            for name in (*dirnames, *filenames):
                found.append(posixpath.join(base, name))
                if len(found) > _MAX_LISTED:
                    return None
        return iter(found)

    def expand(self, pattern: str) -> list[str] | None:
        # Map the glob's fixed prefix, glob on the host, map the results back.
        fixed, _, _ = pattern.partition("*")
        fixed = fixed.split("?")[0].split("[")[0]
        anchor = fixed.rsplit("/", 1)[0] or "/"
        host_anchor = self._host(anchor)
        if host_anchor is None:
            return None
        host_pattern = host_anchor.rstrip("/") + pattern[len(anchor.rstrip("/")) :]
        hits: list[str] = []
        try:  # lazily, so `find / -delete` (`/**`) stops at the cap instead of walking /
            for hit in glob.iglob(host_pattern, recursive=True, include_hidden=False):
                hits.append(hit)
                if len(hits) > _MAX_LISTED:
                    return None
        except (OSError, ValueError, RecursionError):
            return None
        prefix = host_anchor.rstrip("/")
        return [anchor.rstrip("/") + hit[len(prefix) :] for hit in hits]


class HostView(MappedView):
    """The host's own files (hooks for coding agents that run on this machine)."""

    def __init__(self) -> None:
        super().__init__(lambda path: path, name="host")


def sandbox_view(mounts: dict[str, Path]) -> MappedView:
    """A view of a sandbox whose writable mounts are `{agent path: host dir}`."""

    def to_host(path: str) -> str | None:
        best = max(
            (m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")),
            key=len,
            default=None,
        )
        if best is None:
            return None
        relative = posixpath.relpath(path, best)
        root = mounts[best]
        return str(root if relative == "." else root / relative)

    return MappedView(to_host, name="sandbox")
