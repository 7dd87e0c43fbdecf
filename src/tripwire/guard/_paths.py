"""Paths as the guard compares them: absolute, `..` collapsed, symlinks resolved."""

from __future__ import annotations

import os
import posixpath

__all__ = ["normalise_path"]


def normalise_path(path: str, cwd: str, *, home: str | None = None) -> str:
    """The absolute, normalised form of `path` as seen from `cwd`.

    `~` expands to `home` (or `$HOME`); a relative path is joined to `cwd`; `..` and `.`
    collapse; symlinks that exist on this machine resolve (so a link planted next to a
    protected file leads to it). Parts that do not exist yet are kept as written.

    Args:
        path: The path as the agent wrote it.
        cwd: The agent's working directory (absolute).
        home: The agent's home directory for `~`.
    """
    if path == "~" or path.startswith("~/"):
        path = (home or os.environ.get("HOME") or "/root") + path[1:]
    joined = path if path.startswith("/") else posixpath.join(cwd or "/", path)
    collapsed = posixpath.normpath(joined)
    if collapsed.startswith("//"):  # POSIX keeps a leading '//'; treat it as '/'
        collapsed = "/" + collapsed.lstrip("/")
    try:
        return os.path.realpath(collapsed)
    except (OSError, ValueError):
        return collapsed
