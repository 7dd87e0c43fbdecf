"""Guard policies: the YAML file, its pydantic models, and errors that name the line.

A policy is a list of rules over *effects* (see `_effects.py`). For each effect of a
call the first rule that matches decides (so an exception placed before a broad rule
wins, as in a firewall); the call gets the most severe decision over its effects; an
effect no rule matches gets `default`. Named path sets (`paths:`) are referenced from
rules as `@name`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tripwire._errors import PolicyError

from ._decision import Action
from ._effects import EffectKind, SqlOp
from ._run_policy import RunSettings

__all__ = [
    "DatabaseClasses",
    "Policy",
    "RateLimit",
    "Rule",
    "ToolNames",
    "load_policy",
    "parse_policy",
]


class Rule(BaseModel):
    """One rule: conditions on an effect (all that are given must hold) and a decision."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    """Shown in decisions and the audit log."""

    decision: Action
    """allow, ask, deny or kill."""

    reason: str = ""
    """What the agent (deny) or the operator (ask) is told; the effect is appended."""

    effects: list[EffectKind] | None = None
    """Effect kinds the rule applies to; omitted: every kind."""

    tools: list[str] | None = None
    """Globs on the call's tool name (case-insensitive), e.g. `mcp__*__delete*`."""

    tool_words: list[list[str]] | None = None
    """Groups of words; the tool name (split at `_`, `-`, `.`, case changes) must hold a
    word from every group, e.g. `[[delete, trash], [mail, message]]` matches
    `gmail_trash_thread` and `mcp__outlook__DeleteMessage`."""

    paths: list[str] | None = None
    """Globs (or `@set` names) the effect's `path` must match."""

    sources: list[str] | None = None
    """Globs (or `@set` names) a `copy` effect's `source` must match."""

    unknown_path: Literal["no", "also", "only"] = "no"
    """Effects whose path (or, for `sources`, source) the guard could not work out
    (`xargs rm`, `rm $DIR/x`): `no` never match `paths`/`sources`, `also` match them
    (fail closed), `only` makes the rule apply to such effects alone."""

    within: bool = True
    """For delete and permission effects on a directory: match when anything under it
    matches `paths` (so `rm -rf project` meets a rule protecting `project/config.yaml`)."""

    with_effects: list[EffectKind] | None = None
    """The call must also have an effect of one of these kinds (e.g. a secret `read` in
    a call that also opens a `network` connection: `curl -d "$(cat .env)" host`)."""

    via: list[str] | None = None
    """Regular expressions, one of which must be found in the effect's `via` text (the
    command fragment), e.g. `push.*--force.*main` on `exec` of `git`. For what effects
    cannot express; prefer effect conditions."""

    hosts: list[str] | None = None
    """Globs on the effect's remote host."""

    remote: bool | None = None
    """True: only effects on or towards another host; False: only local ones."""

    programs: list[str] | None = None
    """Globs on the program an `exec` or `opaque` effect runs."""

    targets: list[str] | None = None
    """Globs on a `kill` effect's target (process name, pattern or pid)."""

    sql_ops: list[SqlOp] | None = None
    """SQL statement kinds (drop, truncate, delete, ...)."""

    sql_where: bool | None = None
    """False: only UPDATE/DELETE without a real WHERE clause."""

    sql_rows_over: int | None = None
    """Only INSERTs adding more rows than this (unknown counts, INSERT ... SELECT, match)."""

    databases: list[str] | None = None
    """Database classes (`production`, `test`, `unknown`) or globs on the database."""


class RateLimit(BaseModel):
    """At most `max_calls` matching calls per `per_seconds` per session."""

    model_config = ConfigDict(extra="forbid")

    name: str
    """Shown as `rate-limit:<name>`."""

    tools: list[str] = Field(default_factory=lambda: ["*"])
    """Globs on tool names counted by this limit."""

    max_calls: int = Field(gt=0)
    """Calls allowed in the window."""

    per_seconds: float = Field(gt=0)
    """The window's length."""

    decision: Action = "deny"
    """What a call over the limit gets."""

    reason: str = "too many calls in a short time"
    """Told to the agent."""


class DatabaseClasses(BaseModel):
    """Globs that classify a database path, name or URL (case-insensitive).

    A database matching both lists is production: when in doubt, the stricter rules.
    """

    model_config = ConfigDict(extra="forbid")

    production: list[str] = Field(default_factory=list)
    """E.g. `*prod*`, `*production*`."""

    test: list[str] = Field(default_factory=list)
    """E.g. `*test*`, `*dev*`, `:memory:`."""


class ToolNames(BaseModel):
    """Extra tool names (case-insensitive globs) to read as shell, file or SQL tools.

    The built-in lists cover Inspect, Claude Code, Codex, Gemini CLI, Cursor and common
    MCP servers; add your agents' names here.
    """

    model_config = ConfigDict(extra="forbid")

    shell: list[str] = Field(default_factory=list)
    """Tools whose `command`/`cmd` argument is a shell command."""

    python: list[str] = Field(default_factory=list)
    """Tools whose `code` argument is Python source."""

    write: list[str] = Field(default_factory=list)
    """Tools that create or change the file named in their path argument."""

    read: list[str] = Field(default_factory=list)
    """Tools that read the file named in their path argument."""

    delete: list[str] = Field(default_factory=list)
    """Tools that delete the file named in their path argument."""

    sql: list[str] = Field(default_factory=list)
    """Tools whose `query`/`sql` argument is SQL (database in `database`/`db`/`path`)."""


class Policy(BaseModel):
    """A guard policy (see the module docstring for how rules combine)."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    """Policy format version."""

    description: str = ""
    """What the policy is for."""

    default: Action = "allow"
    """Decision for an effect no rule matches."""

    unparseable: Action = "deny"
    """Decision for a call whose command or SQL cannot be parsed. Never allow silently:
    allowing requires writing `allow` here."""

    home: str | None = None
    """The agent's home directory for `~` (default: `$HOME` of the guard)."""

    paths: dict[str, list[str]] = Field(default_factory=dict)
    """Named path-glob sets, used in rules as `@name`."""

    honeytokens: list[str] = Field(default_factory=list)
    """Globs of planted decoy files: any effect on one (even a read) trips."""

    honeytoken_strings: list[str] = Field(default_factory=list)
    """Planted decoy secrets: a call whose arguments contain one trips."""

    honeytoken_decision: Action = "kill"
    """What tripping a honeytoken gets."""

    databases: DatabaseClasses = Field(default_factory=DatabaseClasses)
    """How databases are classed as production or test."""

    tools: ToolNames = Field(default_factory=ToolNames)
    """Extra tool names by kind."""

    rules: list[Rule] = Field(default_factory=list)
    """The rules, first match per effect wins."""

    rate_limits: list[RateLimit] = Field(default_factory=list)
    """Limits on how often tools may be called."""

    run: RunSettings = Field(default_factory=RunSettings)
    """How `tripwire guard run` builds the sandbox around an agent (protected, hidden and
    watched files, decoys, limits)."""

    @model_validator(mode="after")
    def _sets_exist(self) -> Policy:
        for index, rule in enumerate(self.rules):
            for pattern in rule.via or []:
                try:
                    re.compile(pattern)
                except (re.error, RecursionError, OverflowError) as ex:
                    raise ValueError(
                        f"rules[{index}] ({rule.name}): via {pattern!r} is not a valid "
                        f"regular expression: {ex}"
                    ) from ex
        for index, rule in enumerate(self.rules):
            for field in ("paths", "sources"):
                for item in getattr(rule, field) or []:
                    if item.startswith("@") and item[1:] not in self.paths:
                        known = ", ".join(sorted(self.paths)) or "none defined"
                        raise ValueError(
                            f"rules[{index}] ({rule.name}): {field} names the path set "
                            f"{item!r}, which is not defined under 'paths:' ({known})"
                        )
        if "run" not in self.model_fields_set:
            # The default run settings name the shipped policy's sets; a policy without
            # them simply protects less.
            self.run = self.run.model_copy(
                update={
                    field: [
                        p
                        for p in getattr(self.run, field)
                        if not p.startswith("@") or p[1:] in self.paths
                    ]
                    for field in ("protect", "hide", "watch")
                }
            )
        for field in ("protect", "hide", "watch"):
            for item in getattr(self.run, field):
                if item.startswith("@") and item[1:] not in self.paths:
                    raise ValueError(
                        f"run.{field} names the path set {item!r}, which is not defined "
                        "under 'paths:'"
                    )
        return self

    def expand(self, patterns: list[str]) -> list[str]:
        """`patterns` with every `@set` replaced by its globs."""
        out: list[str] = []
        for item in patterns:
            out.extend(self.paths[item[1:]] if item.startswith("@") else [item])
        return out


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file.

    Raises:
        PolicyError: The file is missing, is not YAML, or breaks the schema; the message
            names the file, the line and the problem.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise PolicyError(f"cannot read policy {file}: {ex}") from ex
    return parse_policy(text, source=str(file))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate policy YAML text (see `load_policy`)."""
    try:
        # One parse: the node tree (for line numbers) is built into the data.
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except UnicodeEncodeError as ex:  # a str with a lone surrogate: no file holds one
        raise PolicyError(f"{source}: not valid UTF-8 text ({ex.reason})") from ex
    except (ValueError, RecursionError) as ex:  # an integer too long to convert, ...
        raise PolicyError(f"{source}: not a readable policy ({str(ex)[:200]})") from ex
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(ex, "problem", None) or str(ex).splitlines()[0]
        raise PolicyError(f"{where}: not valid YAML: {problem}") from ex
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy is a YAML mapping (version, rules, ...)")
    try:
        return Policy.model_validate(data)
    except ValidationError as ex:
        error = ex.errors()[0]
        location = tuple(error["loc"]) or _location_in(str(error["msg"]))
        line = _line_of(node, location)
        where = f"{source}:{line}" if line else source
        dotted = _dotted(location)
        message = error["msg"].removeprefix("Value error, ")
        more = f" (and {ex.error_count() - 1} more)" if ex.error_count() > 1 else ""
        raise PolicyError(f"{where}: {dotted + ': ' if dotted else ''}{message}{more}") from ex


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~15x faster


def _location_in(message: str) -> tuple[Any, ...]:
    """A model-level error names its rule as `rules[N]`: point at that rule."""
    found = re.search(r"rules\[(\d+)\]", message)
    return ("rules", int(found.group(1))) if found else ()


def _dotted(location: tuple[Any, ...]) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, location: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node on `location`."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, _ in node.value if k.value == part), None)
            if match is None:
                return line
            line = (key or match).start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
