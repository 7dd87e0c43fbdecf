"""What a tool call would do, as the guard's rules see it.

A tool call (a shell command, a file edit, an SQL query, an MCP call) is reduced to a
list of `Effect`s before any rule looks at it: "writes /w/project/oversight.yaml",
"sends /w/model.bin to host backup", "runs DROP TABLE users on prod.db". Rules match
effects, not command text, so `sed -i`, `tee`, `python -c "open(...,'w')"` and a
base64 blob piped to `sh` that writes the same file all meet the same rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Effect", "EffectKind", "SqlOp", "SqlStatement"]

EffectKind = Literal[
    "call",
    "exec",
    "read",
    "write",
    "delete",
    "permission",
    "copy",
    "network",
    "kill",
    "sql",
    "opaque",
]
"""What an effect does.

- `call`: the tool call itself (every call has exactly one; rules on tool names match it).
- `exec`: a program is run (`program` is its base name, e.g. `shutdown`, `crontab`).
- `read`: a file is read (`path`).
- `write`: a file is created, changed, truncated or replaced (`path`); a move's destination.
- `delete`: a file or directory is removed (`path`); a move's source.
- `permission`: a file's mode, owner or attributes change (`chmod`, `chown`, `chattr`).
- `copy`: the content of `source` lands at `path` (local) or on `host` (`scp`, `rsync`,
  `curl -T`); both `read` and `write` effects are emitted alongside it.
- `network`: a connection to `host` (`ssh`, `curl`, `wget`, `nc`, `git clone`, ...).
- `kill`: a signal to a process (`target`: a name or pid; `kill`, `pkill`, `systemctl stop`).
- `sql`: an SQL statement runs (`sql` holds what it does, `path` the database if known).
- `opaque`: code the guard cannot see into runs: an interpreter given a string the guard
  could not recover (a variable never assigned, a network download piped to `sh`), or a
  decoded payload that did not parse. `program` names the interpreter.
"""

SqlOp = Literal[
    "select",
    "insert",
    "update",
    "delete",
    "drop",
    "truncate",
    "alter",
    "create",
    "grant",
    "attach",
    "pragma",
    "other",
]


class SqlStatement(BaseModel):
    """One SQL statement as parsed by sqlglot."""

    model_config = ConfigDict(frozen=True)

    op: SqlOp
    """The statement's kind."""

    tables: tuple[str, ...] = ()
    """Tables the statement writes to (or reads, for a select), lower-case, unqualified."""

    has_where: bool = True
    """False for an UPDATE or DELETE without a WHERE clause (or with an always-true one)."""

    rows: int | None = None
    """Rows an INSERT ... VALUES adds, when countable; None for INSERT ... SELECT."""

    text: str = ""
    """The statement, normalised by sqlglot (for reasons and the audit log)."""


class Effect(BaseModel):
    """One thing a tool call would do. Paths are absolute and normalised."""

    model_config = ConfigDict(frozen=True)

    kind: EffectKind
    """What the effect does (see `EffectKind`)."""

    path: str | None = None
    """The file acted on, absolute: `..` collapsed, symlinks resolved where they exist,
    relative paths taken against the call's working directory. For a remote effect
    (`host` set) the path on that host, as written."""

    source: str | None = None
    """For `copy`: the file whose content is copied (absolute, normalised)."""

    host: str | None = None
    """The remote host the effect happens on or connects to (user and port removed);
    None for local effects."""

    program: str | None = None
    """For `exec` and `opaque`: the program's base name (`rm`, `python3`)."""

    target: str | None = None
    """For `kill`: the process name, pattern or pid signalled."""

    tool: str | None = None
    """For `call`: the tool's name as the agent called it."""

    sql: SqlStatement | None = None
    """For `sql`: the statement."""

    database: str | None = None
    """For `sql`: the database, as a path (SQLite), a name or a URL, when known."""

    via: str = Field(default="", max_length=400)
    """The fragment of the call that produced this effect, for reasons and logs
    (e.g. `sed -i s/true/false/ project/oversight.yaml`)."""
