"""From a tool call to its effects: which tools are shells, editors, readers or SQL.

Agents name the same tools differently (`bash`, `Bash`, `run_shell_command`,
`exec_command`; `Write`, `write_file`, `create_file`; `mcp__fs__delete_file`). Known
names map to a reader of their arguments; unknown tools (most MCP tools) are read by the
words in their names (`delete`, `write`, `read`, `send`) and their path- and URL-like
arguments, so a new tool that deletes a file still meets the rules on deleting files.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from tripwire._errors import UnparseableError

from ._call import GuardCall
from ._effects import Effect, EffectKind
from ._glob import name_matches
from ._paths import normalise_path
from ._policy import ToolNames

__all__ = ["ToolKinds", "call_effects", "tool_words"]

_SHELL = (
    "bash", "sh", "zsh", "shell", "shell_command", "run_shell_command", "exec_command",
    "execute_command", "run_command", "command", "terminal", "run_terminal_cmd",
    "local_shell", "container.exec", "bash_session", "execute_bash", "cmd",
)  # fmt: skip
_PYTHON = ("python", "python_exec", "execute_python", "run_python", "ipython", "jupyter")
_EDITOR = (
    "write", "write_file", "create_file", "edit", "edit_file", "multiedit", "replace",
    "str_replace", "notebookedit", "notebook_edit", "apply_patch", "text_editor",
    "str_replace_editor", "str_replace_based_edit_tool", "search_replace", "insert",
    "save_file", "append_file", "append_to_file", "patch", "create", "overwrite_file",
    "move_file", "rename_file", "copy_file",
)  # fmt: skip
_READ = (
    "read", "read_file", "view", "view_file", "cat", "open_file", "glob", "grep",
    "search", "list_directory", "ls", "list_files", "read_many_files", "find_files",
    "get_file_contents", "read_text_file", "read_multiple_files",
)  # fmt: skip
_DELETE = ("delete_file", "remove_file", "rm", "unlink", "delete", "delete_path")
_SQL = (
    "sql", "query", "run_sql", "execute_sql", "sqlite_query", "db_query", "sql_query",
    "postgres_query", "mysql_query", "read_query", "write_query", "execute_query",
)  # fmt: skip

# Argument names that hold a path or several.
_PATH_KEYS = (
    "file_path", "path", "filepath", "filename", "file", "notebook_path", "target_file",
    "target", "destination", "dest", "source", "src", "directory", "dir", "dir_path",
    "absolute_path", "relative_workspace_path", "old_path", "new_path", "from", "to_path",
)  # fmt: skip
_PATHS_KEYS = ("paths", "files", "file_paths", "sources")
_SHELL_KEYS = ("command", "cmd", "input", "script", "commands")
_SQL_KEYS = ("query", "sql", "statement", "statements")
_DB_KEYS = ("database", "db", "db_path", "database_path", "dsn", "connection", "url")
_URL_KEYS = ("url", "uri", "endpoint", "href", "host", "hostname", "server")

# Verbs in unknown tools' names, strongest first.
_VERBS: tuple[tuple[EffectKind, tuple[str, ...]], ...] = (
    ("delete", ("delete", "remove", "rm", "unlink", "trash", "purge", "erase", "destroy", "drop")),
    ("write", (
        "write", "edit", "create", "save", "update", "put", "upload", "replace", "patch",
        "move", "rename", "append", "insert", "modify", "set", "overwrite", "chmod", "copy",
    )),
    ("read", ("read", "get", "view", "list", "open", "search", "fetch", "cat", "find", "download")),
)  # fmt: skip
# Words in unknown tools' names that say they run what they are given.
_EXEC_STEMS = ("exec", "shell", "bash", "terminal", "command", "spawn", "subprocess", "powershell")
_EXEC_WORDS = frozenset({"run", "sh", "zsh", "cmd", "invoke"})
_EDITOR_READS = frozenset({"view", "read", "show", "list"})
_PATCH_FILE = re.compile(
    r"^\*\*\* (?:Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$|^\+\+\+ (?:b/)?(.+)$",
    re.MULTILINE,
)
_PATCH_DELETE = re.compile(r"^\*\*\* Delete File: (.+)$", re.MULTILINE)


class ToolKinds:
    """Classifies tool names, built-ins plus a policy's extra names."""

    def __init__(self, extra: ToolNames | None = None) -> None:
        extra = extra or ToolNames()
        self._kinds: list[tuple[str, tuple[str, ...]]] = [
            ("editor", (*_EDITOR, *extra.write)),
            ("delete", (*_DELETE, *extra.delete)),
            ("sql", (*_SQL, *extra.sql)),
            ("python", (*_PYTHON, *extra.python)),
            ("shell", (*_SHELL, *extra.shell)),
            ("read", (*_READ, *extra.read)),
        ]

    @lru_cache(maxsize=1024)  # noqa: B019 - one ToolKinds per Guard, few names
    def kind(self, tool: str) -> str | None:
        """`editor`, `delete`, `sql`, `python`, `shell`, `read`, or None (unknown)."""
        base = _base_name(tool)
        for kind, names in self._kinds:
            if any(name_matches(base, n) or name_matches(tool, n) for n in names):
                return kind
        return None


def _base_name(tool: str) -> str:
    """`mcp__server__write_file` -> `write_file`; `functions.bash` -> `bash`."""
    if tool.startswith("mcp__"):
        return tool.split("__")[-1]
    return tool.rsplit(".", 1)[-1] if "." in tool and tool != "container.exec" else tool


@lru_cache(maxsize=2048)
def tool_words(tool: str) -> tuple[str, ...]:
    """A tool name split into lower-case words at `_`, `-`, `.`, digits and case changes."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", tool)
    return tuple(w for w in re.split(r"[^A-Za-z]+", spaced.lower()) if w)


def call_effects(call: GuardCall, kinds: ToolKinds, *, home: str | None) -> list[Effect]:
    """Every effect of `call`, starting with its `call` effect.

    Raises:
        UnparseableError: A shell command, Python code or SQL text cannot be parsed.
    """
    effects = [Effect(kind="call", tool=call.tool, via=_preview(call.arguments))]
    args = call.arguments
    kind = kinds.kind(call.tool)
    if kind == "shell":
        effects.extend(_shell(_shell_text(args), call.cwd, home))
    elif kind == "python":
        code = _first_str(args, ("code", "source", "script", "input"))
        if code is not None:
            effects.extend(_python(code, call.cwd, home))
    elif kind == "sql":
        effects.extend(_sql(args, call.cwd, home))
    elif kind == "editor":
        effects.extend(_editor(call.tool, args, call.cwd, home))
    elif kind in ("read", "delete"):
        verb: EffectKind = "read" if kind == "read" else "delete"
        effects.extend(_on_paths(verb, args, call.cwd, home, call.tool))
    else:
        effects.extend(_unknown(call.tool, args, call.cwd, home))
    effects.extend(_urls(args))
    return effects


def _preview(arguments: dict[str, Any]) -> str:
    try:
        text = json.dumps(arguments, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(arguments)
    return text if len(text) <= 400 else text[:397] + "..."


def _shell_text(args: dict[str, Any]) -> str:
    for key in _SHELL_KEYS:
        value = args.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            # Codex-style argv (`["bash", "-lc", "..."]`) or a list of commands.
            return shlex.join(value) if key != "commands" else "\n".join(value)
    if not args:
        return ""
    raise UnparseableError(
        f"shell tool call without a command argument (got {', '.join(sorted(args))})"
    )


def _shell(command: str, cwd: str, home: str | None) -> list[Effect]:
    from ._shell import shell_effects  # parsing stack loads on first shell call

    return list(shell_effects(command, cwd, home=home))


def _python(code: str, cwd: str, home: str | None) -> list[Effect]:
    """Python source, read as `python3 -c` would run it."""
    return _shell("python3 -c " + shlex.quote(code), cwd, home)


def _sql(args: dict[str, Any], cwd: str, home: str | None) -> list[Effect]:
    from ._sql import sql_effects

    text = _first_str(args, _SQL_KEYS)
    if text is None:
        raise UnparseableError("SQL tool call without a query argument")
    database = _first_str(args, _DB_KEYS)
    looks_like_file = database is not None and (
        "/" in database or database.endswith((".db", ".sqlite", ".sqlite3", ".duckdb"))
    )
    if database is not None and looks_like_file and "://" not in database:
        database = normalise_path(database, cwd, home=home)
    return list(sql_effects(text, database=database, via=text[:400]))


def _editor(tool: str, args: dict[str, Any], cwd: str, home: str | None) -> list[Effect]:
    command = args.get("command")
    if isinstance(command, str) and command.lower() in _EDITOR_READS:
        return _on_paths("read", args, cwd, home, tool)
    patch_keys = ("patch", "input", "diff", "command")
    patch = _first_str(args, patch_keys) if "patch" in tool.lower() else None
    if patch is not None:
        return _patch_effects(patch, cwd, home)
    if "patch" in tool.lower() and any(k in args for k in patch_keys):
        # A patch that is not text (null, a list) cannot be read: refused, not empty.
        key = next(k for k in patch_keys if k in args)
        raise UnparseableError(f"{tool}: patch argument {key!r} is {_json_kind(args[key])}")
    effects = _on_paths("write", args, cwd, home, tool)
    words = set(tool_words(tool))
    if words & {"move", "rename"}:
        source = _first_str(args, ("source", "src", "old_path", "from", "path"))
        if source is not None:
            path = normalise_path(source, cwd, home=home)
            effects.append(Effect(kind="delete", path=path, via=f"{tool} {source}"[:400]))
    return effects


def _patch_effects(patch: str, cwd: str, home: str | None) -> list[Effect]:
    effects: list[Effect] = []
    for match in _PATCH_FILE.finditer(patch):
        name = next(g for g in match.groups() if g).strip()
        if name == "/dev/null":
            continue
        path = normalise_path(name, cwd, home=home)
        effects.append(Effect(kind="write", path=path, via=f"patch {name}"[:400]))
    for match in _PATCH_DELETE.finditer(patch):
        path = normalise_path(match.group(1).strip(), cwd, home=home)
        effects.append(Effect(kind="delete", path=path, via=f"patch delete {match.group(1)}"))
    return effects


def _unknown(tool: str, args: dict[str, Any], cwd: str, home: str | None) -> list[Effect]:
    """Unknown tools: effects on their path arguments by the verbs in their names.

    An unknown tool that looks like it runs commands (`execute`, `run`, `spawn_process`
    with a command argument), or any tool with a `command`/`cmd` text, is read as a
    shell: a command that runs unread would be a way around every shell rule.
    """
    words = tool_words(_base_name(tool))
    command_like = any(isinstance(args.get(key), str | list) for key in ("command", "cmd"))
    runs_things = any(w in _EXEC_WORDS or w.startswith(_EXEC_STEMS) for w in words)
    if command_like or (runs_things and any(key in args for key in _SHELL_KEYS)):
        effects = _shell(_shell_text(args), cwd, home)
        return effects + _on_paths("read", args, cwd, home, tool)
    code = args.get("code")
    if runs_things and isinstance(code, str):
        # `execute(code=..., language=...)`: shell when it says so, else Python.
        language = str(args.get("language") or args.get("lang") or "python").lower()
        if language in ("bash", "sh", "shell", "zsh"):
            return _shell(code, cwd, home)
        return _python(code, cwd, home)
    for verb, stems in _VERBS:
        if any(w.startswith(stems) for w in words):
            effects = _on_paths(verb, args, cwd, home, tool)
            sql = _first_str(args, _SQL_KEYS)
            if sql is not None and any(w in ("sql", "query", "db", "database") for w in words):
                effects.extend(_sql(args, cwd, home))
            return effects
    return _on_paths("read", args, cwd, home, tool)


def _on_paths(
    kind: EffectKind, args: dict[str, Any], cwd: str, home: str | None, tool: str
) -> list[Effect]:
    if kind != "read":
        # A write or delete whose path is a list, a number, or only null cannot be
        # checked: the call is unparseable (refused by default), not one with no path.
        given = [k for k in _PATH_KEYS if k in args]
        odd = [k for k in given if not isinstance(args[k], str)]
        named = any(isinstance(args[k], str) for k in given)
        if any(args[k] is not None for k in odd) or (odd and not named):
            key = next((k for k in odd if args[k] is not None), odd[0])
            raise UnparseableError(
                f"{tool}: path argument {key!r} is {_json_kind(args[key])}, not text"
            )
    effects = []
    for raw in _path_arguments(args):
        path = normalise_path(raw, cwd, home=home)
        effects.append(Effect(kind=kind, path=path, via=f"{tool} {raw}"[:400]))
    return effects


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else type(value).__name__
    )


def _path_arguments(args: dict[str, Any]) -> Iterable[str]:
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value and "://" not in value:
            yield value
    for key in _PATHS_KEYS:
        value = args.get(key)
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, str) and v)
    edits = args.get("edits")
    if isinstance(edits, list):  # MultiEdit-style: each edit may name its own file
        for edit in edits:
            if isinstance(edit, dict):
                yield from _path_arguments(edit)


def _urls(args: dict[str, Any]) -> list[Effect]:
    effects = []
    for key in _URL_KEYS:
        value = args.get(key)
        if not isinstance(value, str) or not value:
            continue
        host = urlsplit(value if "://" in value else f"//{value}").hostname
        if host:
            effects.append(Effect(kind="network", host=host.lower(), via=f"{key}={value}"[:400]))
    return effects


def _first_str(args: dict[str, Any], keys: Iterable[str]) -> str | None:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str):
            return value
    return None
