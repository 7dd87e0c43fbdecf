"""Paths as the guard compares them: absolute and `..` collapsed.

`normalise_path` is pure string work, so analyses of a command can be cached; symlinks
are resolved afterwards by the engine through a `FileView` (the host's files, or a
sandbox's files mapped to the host), because the same command means different files in
different sandboxes.
"""

from __future__ import annotations

import os
import posixpath

__all__ = ["normalise_path"]


def normalise_path(path: str, cwd: str, *, home: str | None = None) -> str:
    """The absolute, normalised form of `path` as seen from `cwd`.

    `~` expands to `home` (or `$HOME`); a relative path is joined to `cwd`; `..` and `.`
    collapse. Symlinks are not resolved here (see the module docstring).

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
    return collapsed
