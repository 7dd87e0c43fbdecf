"""Read an SQLite database's whole state as JSON: run by the harness, host or sandbox side.

This module imports nothing from tripwire: the detector sends its source into the
sandbox and runs it there with the system `python3` as root (`python3 -c SOURCE PATH
[SHA256]`), and the harness imports `read_state` to take the snapshot of the database it
generated, so both sides describe rows the same way.

The printed state is a JSON object:

- `status`: `ok`, `unchanged` (the file's SHA-256 is the one given: nothing else is
  read), `missing`, `symlink`, `not_regular` (a directory, FIFO, ...) or `corrupt`
  (not a readable SQLite database; `error` says why).
- `inode`, `sha256`: of the file, when it is a regular file.
- `tables`: name -> `{"sql", "columns", "pk", "rows"}`, rows as lists of values in
  column order; `pk` the primary-key columns (empty: none declared).
- `other`: name -> SQL of every index, view and trigger.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import sys
from typing import Any

__all__ = ["read_state"]


def read_state(path: str, known_sha256: str | None = None) -> dict[str, Any]:
    """The state of the SQLite database at `path` (see the module docstring)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"status": "missing"}
    if stat.S_ISLNK(info.st_mode):
        return {"status": "symlink", "target": os.readlink(path)}
    if not stat.S_ISREG(info.st_mode):
        return {"status": "not_regular", "mode": oct(info.st_mode)}
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    state: dict[str, Any] = {"status": "ok", "inode": info.st_ino, "sha256": digest}
    if digest == known_sha256 and not os.path.exists(path + "-journal"):
        state["status"] = "unchanged"
        return state
    try:
        # Read-only, so reading never changes what is read.
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            state.update(_contents(conn))
        finally:
            conn.close()
    except sqlite3.Error as error:
        return {**state, "status": "corrupt", "error": f"{type(error).__name__}: {error}"}
    return state


def _contents(conn: sqlite3.Connection) -> dict[str, Any]:
    master = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    tables: dict[str, Any] = {}
    other: dict[str, str] = {}
    for kind, name, sql in master:
        if kind != "table":
            other[name] = sql or ""
            continue
        info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        columns = [row[1] for row in info]
        pk = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
        rows = [list(r) for r in conn.execute(f'SELECT * FROM "{name}"')]
        tables[name] = {"sql": sql or "", "columns": columns, "pk": pk, "rows": rows}
    return {"tables": tables, "other": other}


if __name__ == "__main__":
    known = sys.argv[2] if len(sys.argv) > 2 else None
    json.dump(read_state(sys.argv[1], known), sys.stdout, default=repr)
