r"""SQL text reduced to effects: what each statement does, to which tables, in which database.

`sql_effects` reads a script the way a database client would: statements split by
sqlglot's tokenizer, psql meta-commands (`\c db`) and sqlite dot-commands (`.open f`)
taken line by line, `USE db` and `ATTACH ... AS x` followed so that a later
`DROP TABLE x.users` is charged to the database it really hits.

Decisions taken here, all on the side of blocking:

- Text sqlglot cannot parse, or that parses only as a bare expression (`blah blah`), raises
  `UnparseableError`; the policy's `unparseable` decision applies.
- Client commands that run code or files the guard cannot see (`.read f`, `.shell`,
  `.load`, `\i f`, `\!`, `\gexec`, `COPY ... PROGRAM`, and any meta-command not known
  to be harmless) become `opaque` effects rather than errors, so the statements around
  them are still described.
- A WHERE that sqlglot's simplifier reduces to TRUE, or that is always true by form
  (`x = x`, `p OR NOT p`), counts as no WHERE. A WHERE built on a subquery
  (`id IN (SELECT id FROM t)`) counts as a real WHERE even when it selects every row:
  telling would need the data.
- Data-modifying statements nested in another (`WITH x AS (DELETE ...) SELECT ...`, the
  inner statement of `EXPLAIN ANALYZE`, `PREPARE`, a `DO` block) are reported as well.
- Transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`) yields no effect: it
  does nothing by itself, and a rolled-back statement is still reported.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from sqlglot import Token, TokenType, exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.optimizer.simplify import simplify

from .._errors import UnparseableError
from ._effects import Effect, SqlOp, SqlStatement

__all__ = ["MAX_SQL_CHARS", "SQL_DIALECTS", "DatabaseClass", "database_class", "sql_effects"]

MAX_SQL_CHARS = 200_000
"""Longest SQL text read; longer text is unparseable (reading it would stall the guard)."""

SQL_DIALECTS = ("sqlite", "postgres", "mysql", "duckdb")
"""Dialects tried, in this order, when the caller names none and the database gives no hint."""

DatabaseClass = Literal["production", "test", "unknown"]

_TEXT_CHARS = 1000  # SqlStatement.text kept for reasons and logs, not for replay
_VIA_CHARS = 400  # Effect.via's limit
_CACHE_SIZE = 4096
_CACHE_TEXT_CHARS = 10_000  # longer scripts are rare and would make the cache large


class _CommandFallbackFilter(logging.Filter):
    """Drops sqlglot's warning for each statement it keeps as an opaque `Command`.

    Such statements are expected here (VACUUM, EXPLAIN, DO blocks) and handled below;
    the warning would print the agent's SQL to the host's log on every call.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_CommandFallbackFilter())


def sql_effects(
    text: str, *, database: str | None, via: str, dialect: str | None = None
) -> list[Effect]:
    """The effects of running an SQL script: one `sql` effect per statement.

    Args:
        text: One or many statements, as given to a client (`sqlite3`, `psql`, `mysql`,
            `duckdb`, an MCP query tool); psql meta-commands and sqlite dot-commands allowed.
        database: The database the script starts in (path, name or URL), if known.
        via: The fragment of the call that carried the SQL, stored on every effect.
        dialect: `sqlite`, `postgres`, `mysql` or `duckdb` when the client is known; then
            only that dialect is tried. None tries the dialect the database suggests, then
            `SQL_DIALECTS` in order.

    Returns:
        `sql` effects in script order, plus `opaque` effects for client commands that run
        what the guard cannot see. Empty for text with no statements (blank, comments,
        transaction control only).

    Raises:
        UnparseableError: A statement cannot be parsed, the text is longer than
            `MAX_SQL_CHARS`, or the dialect is unknown.

    Example:
        >>> [e.sql.op for e in sql_effects("DELETE FROM users", database="prod.db", via="")]
        ['delete']
    """
    reader = _cached_effects if len(text) <= _CACHE_TEXT_CHARS else _effects
    outcome = reader(text, database, via, dialect)
    if isinstance(outcome, str):
        raise UnparseableError(outcome)
    return list(outcome)


def _effects(
    text: str, database: str | None, via: str, dialect: str | None
) -> tuple[Effect, ...] | str:
    """`sql_effects`' work: the effects, or the message of why the text is unparseable."""
    if len(text) > MAX_SQL_CHARS:
        return (
            f"SQL text is {len(text):,} characters; the guard reads at most "
            f"{MAX_SQL_CHARS:,}: split the script or run it outside the guarded agent."
        )
    if dialect is not None and dialect not in SQL_DIALECTS:
        return f"Unknown SQL dialect {dialect!r}: use one of {', '.join(SQL_DIALECTS)} or None."
    try:
        return tuple(_Script(database, via[:_VIA_CHARS], dialect).read(text))
    except UnparseableError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - sqlglot raises many kinds; none may escape
        return f"SQL could not be read ({type(error).__name__}): {_first_line(text)}"


# Failures are cached too (as their message): an agent retrying the same bad SQL costs
# one parse. Long texts are not cached, so the cache stays under ~40 MB.
_cached_effects = functools.lru_cache(maxsize=_CACHE_SIZE)(_effects)


def database_class(
    database: str | None, production: Sequence[str], test: Sequence[str]
) -> DatabaseClass:
    """Whether a database is production, test, or unknown, by glob patterns.

    Each pattern is matched, case-insensitively, against the whole string, its basename
    (for a path), and the database name inside a URL (`postgresql://h/app_prod?x=1` ->
    `app_prod`) or a libpq conninfo (`dbname=app_prod host=h`). Production wins when both
    kinds match (`prod_test.db`): an ambiguous name is treated as the dangerous one.

    Args:
        database: A path, name or URL; None is `unknown`.
        production: Patterns of production databases (`["*prod*", "*live*"]`).
        test: Patterns of test databases (`["*test*", ":memory:"]`).

    Returns:
        `production`, `test` or `unknown`.

    Example:
        >>> database_class("/srv/app/prod.db", ["*prod*"], ["*test*"])
        'production'
    """
    if not database:
        return "unknown"
    names = [name.lower() for name in _database_names(database)]

    def matches(patterns: Sequence[str]) -> bool:
        return any(fnmatch.fnmatchcase(n, p.lower()) for p in patterns for n in names)

    if matches(production):
        return "production"
    if matches(test):
        return "test"
    return "unknown"


def _database_names(database: str) -> list[str]:
    """The strings a database is known by: whole, basename, and the name in a URL."""
    names = [database]
    parts = urlsplit(database) if "://" in database else None
    if parts is not None:
        path = parts.path.rstrip("/")
        if path:
            names.append(posixpath.basename(path))
        for key in ("dbname", "database", "db"):
            names.extend(parse_qs(parts.query).get(key, []))
    else:
        conninfo = re.search(r"(?:^|\s)dbname\s*=\s*'?([^'\s]+)", database)
        if conninfo:
            names.append(conninfo.group(1))
        base = posixpath.basename(database.rstrip("/"))
        if base and base != database:
            names.append(base)
    return names


def _guess_dialects(database: str | None, dialect: str | None) -> tuple[str, ...]:
    """Dialects to try: the caller's alone, else the database's hint first."""
    if dialect is not None:
        return (dialect,)
    hint = None
    lowered = (database or "").lower()
    if lowered.startswith(("postgres://", "postgresql://")):
        hint = "postgres"
    elif lowered.startswith(("mysql://", "mariadb://", "mysql+")):
        hint = "mysql"
    elif lowered.startswith("duckdb:") or lowered.endswith((".duckdb", ".ddb")):
        hint = "duckdb"
    if hint is None:
        return SQL_DIALECTS
    return (hint, *(d for d in SQL_DIALECTS if d != hint))


def _first_line(text: str) -> str:
    """The first 80 characters of a statement, on one line, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= 80 else flat[:79] + "…"


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_CHARS else text[: _TEXT_CHARS - 2] + " …"


# --- client commands -------------------------------------------------------------------

# Meta-commands that only display or format; anything else a client accepts is opaque.
_HARMLESS_DOT = frozenset(
    {
        *("tables", "schema", "fullschema", "indexes", "indices", "databases", "dbinfo"),
        *("headers", "header", "mode", "width", "nullvalue", "separator", "timer", "eqp"),
        *("echo", "show", "help", "quit", "exit", "print", "prompt", "bail", "changes"),
        *("explain", "stats", "lint", "parameter"),
    }
)
_HARMLESS_BACKSLASH = frozenset(
    {
        *("d", "da", "db", "dc", "dC", "dd", "dD", "ddp", "dE", "di", "dm", "dn", "do"),
        *("dO", "dp", "dP", "ds", "dS", "dt", "dT", "du", "dv", "dx", "dy", "dg", "df"),
        *("dF", "l", "list", "x", "timing", "pset", "a", "C", "f", "H", "T", "t", "z"),
        *("echo", "qecho", "warn", "q", "quit", "?", "h", "help", "conninfo", "encoding"),
        *("errverbose", "set", "unset", "prompt"),
    }
)
_DOT_LINE = re.compile(r"^\s*\.([A-Za-z][\w-]*)(.*)$")
_ANY_META = re.compile(r"^\s*(?:\\|\.[A-Za-z])", re.MULTILINE)
_BACKSLASH_LINE = re.compile(r"^\s*\\([A-Za-z?!]+[+S]*)(.*)$")


@dataclass
class _Script:
    """The state of a client reading a script: current database, attached aliases."""

    database: str | None
    via: str
    dialect: str | None
    attached: dict[str, str] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)

    def read(self, text: str) -> list[Effect]:
        """Effects of the whole script, meta-command lines handled in order."""
        if not _ANY_META.search(text):  # the common case: plain SQL, one stretch
            self._sql(text)
            return self.effects
        pending: list[str] = []
        for line in text.splitlines(keepends=True):
            meta = self._meta_line(line, pending)
            if meta is None:
                pending.append(line)
                continue
            self._sql("".join(pending))
            pending.clear()
            self._meta(*meta, line.strip())
        self._sql("".join(pending))
        return self.effects

    def _meta_line(self, line: str, pending: list[str]) -> tuple[str, str, str] | None:
        """(client, command, argument) when the line is a client command, else None."""
        found = _BACKSLASH_LINE.match(line)
        if found:  # psql takes a backslash command anywhere outside a statement's quotes
            return "psql", found.group(1).rstrip("+"), found.group(2).strip()
        found = _DOT_LINE.match(line)
        if found and _complete("".join(pending)):  # sqlite: only between statements
            return "sqlite3", found.group(1).lower(), found.group(2).strip()
        return None

    def _meta(self, client: str, command: str, argument: str, line: str) -> None:
        """Follow one client command: switch database, skip, or record it as opaque."""
        args = _words(argument)
        if client == "sqlite3" and command == "open":
            files = [a for a in args if not a.startswith("-")]
            self._switch(files[-1] if files else None)
        elif client == "psql" and command in ("c", "connect"):
            if args and args[0] != "-":
                self._switch(args[0])
        elif command in (_HARMLESS_DOT if client == "sqlite3" else _HARMLESS_BACKSLASH):
            return
        else:
            self.effects.append(
                Effect(kind="opaque", program=client, database=self.database, via=_via(line))
            )

    def _switch(self, database: str | None) -> None:
        self.database = database
        self.attached.clear()

    def _sql(self, text: str) -> None:
        """Effects of a stretch of plain SQL (no client commands)."""
        if not text.strip():
            return
        errors: list[str] = []
        dialects = _guess_dialects(self.database, self.dialect)
        for dialect in dialects:
            try:
                parsed = _parse(text, dialect)
            except UnparseableError as error:
                errors.append(str(error))
                continue
            for statement, original in parsed:
                self._statement(statement, original, dialect)
            return
        tried = ", ".join(dialects)
        raise UnparseableError(f"{errors[0]} (tried {tried})")

    def _statement(self, node: exp.Expr, original: str, dialect: str) -> None:
        """Add the effects of one parsed statement (and of statements nested in it)."""
        for inner in node.find_all(exp.Insert, exp.Update, exp.Delete, exp.Merge):
            # A MERGE's WHEN ... THEN UPDATE/INSERT branches are the MERGE itself.
            if inner is not node and not isinstance(inner.parent, exp.When):
                self._statement(inner, "", dialect)
        if isinstance(node, exp.Use):
            table = node.this
            name = table.sql(dialect=dialect) if isinstance(table, exp.Expr) else None
            self._switch(name.strip('"`') if name else None)
            return
        if isinstance(node, exp.Command):
            self._command(node, original, dialect)
            return
        op, targets, has_where, rows = _describe(node)
        text = _clip(_normalised(node, dialect, original))
        if isinstance(node, exp.Attach | exp.Detach):
            self._attach(node, op, text)
            return
        if isinstance(node, exp.Drop) and node.text("kind").upper() == "DATABASE":
            groups: dict[str | None, list[str]] = {
                _table_name(t): [_table_name(t)] for t in targets
            }
        else:
            groups = self._route(targets, dialect)
        for database, tables in groups.items():
            statement = SqlStatement(
                op=op, tables=tuple(tables), has_where=has_where, rows=rows, text=text
            )
            self.effects.append(Effect(kind="sql", sql=statement, database=database, via=self.via))
        if isinstance(node, exp.Copy) and _copy_program(node):
            self.effects.append(
                Effect(kind="opaque", program="sh", database=self.database, via=self.via)
            )

    def _route(self, targets: list[exp.Table], dialect: str) -> dict[str | None, list[str]]:
        """Tables grouped by the database they live in (attached alias, MySQL db prefix)."""
        groups: dict[str | None, list[str]] = {}
        for table in targets:
            database = self.database
            qualifiers = [q.lower() for q in (table.catalog, table.db) if q]
            attached = [self.attached[q] for q in qualifiers if q in self.attached]
            if attached:
                database = attached[0]
            elif dialect == "mysql" and table.db:
                database = table.db  # MySQL: `db.table` is another database
            names = groups.setdefault(database, [])
            name = _table_name(table)
            if name and name not in names:
                names.append(name)
        return groups or {self.database: []}

    def _attach(self, node: exp.Attach | exp.Detach, op: SqlOp, text: str) -> None:
        """ATTACH / DETACH: charged to the attached database, remembered by alias."""
        target = node.this
        alias = ""
        if isinstance(target, exp.Alias):
            alias = target.alias.lower()
            target = target.this
        path = target.name if isinstance(target, exp.Expr) else ""
        if isinstance(node, exp.Attach):
            alias = alias or posixpath.splitext(posixpath.basename(path))[0].lower()
            self.attached[alias] = path
            database: str | None = path
        else:
            database = self.attached.pop(path.lower(), path or None)
        statement = SqlStatement(op=op, text=text)
        self.effects.append(Effect(kind="sql", sql=statement, database=database, via=self.via))

    def _command(self, node: exp.Command, original: str, dialect: str) -> None:
        """A statement sqlglot keeps as raw text: classify by keyword, read inner SQL."""
        keyword = node.text("this").upper()
        argument = node.args.get("expression")
        rest = argument.name if isinstance(argument, exp.Expr) else str(argument or "")
        inner = _inner_sql(keyword, rest)
        if inner is not None:
            before = len(self.effects)
            # The inner statement runs (EXPLAIN ANALYZE, PREPARE/EXECUTE, DO): read it as such.
            _Script(self.database, self.via, dialect, self.attached, self.effects).read(inner)
            if len(self.effects) > before:
                return
        if keyword not in _COMMAND_OPS and keyword not in _OTHER_COMMANDS:
            # e.g. PL/pgSQL `IF x THEN DROP TABLE t` in a DO block: words sqlglot kept as
            # text that no supported client runs as a statement; what they do is unknown.
            raise UnparseableError(
                f"Unknown SQL command {keyword!r} in {dialect}: {_first_line(original)}"
            )
        op: SqlOp = _COMMAND_OPS.get(keyword, "other")
        tables: tuple[str, ...] = ()
        if keyword == "RENAME":
            tables = tuple(_unquote(n) for pair in _RENAME.findall(rest) for n in pair)
        elif keyword in ("CREATE", "DROP", "ALTER"):
            tables = tuple(_unquote(a or b) for a, b in _DDL_NAMES.findall(rest))
        statement = SqlStatement(
            op=op,
            tables=tuple(dict.fromkeys(tables)),
            # An UPDATE or DELETE sqlglot could not parse: its WHERE is unknown, so none.
            has_where=op not in ("update", "delete"),
            text=_clip(" ".join(original.split())),
        )
        self.effects.append(Effect(kind="sql", sql=statement, database=self.database, via=self.via))


def _via(line: str) -> str:
    return line[:_VIA_CHARS]


def _words(argument: str) -> list[str]:
    """A meta-command's arguments, quotes removed (`'my db.sqlite'` is one word)."""
    return [a or b or c for a, b, c in re.findall(r"'([^']*)'|\"([^\"]*)\"|(\S+)", argument)]


def _complete(sql: str) -> bool:
    """True when `sql` holds no statement in progress (blank or ending with `;`)."""
    if not sql.strip():
        return True
    try:
        tokens = Dialect.get_or_raise("sqlite").tokenize(sql)
    except Exception:  # noqa: BLE001 - an unterminated string or comment is not complete
        return False
    return not tokens or tokens[-1].token_type == TokenType.SEMICOLON


# --- parsing ---------------------------------------------------------------------------

_SKIP_FIRST_WORDS = frozenset({"SAVEPOINT", "RELEASE", "END", "ABORT"})  # transaction control
_REWRITE_AS_INSERT = frozenset({"REPLACE", "UPSERT"})


def _parse(text: str, dialect: str) -> list[tuple[exp.Expr, str]]:
    """Each statement of `text` parsed in `dialect`, with its original text."""
    engine = Dialect.get_or_raise(dialect)
    try:
        tokens = engine.tokenize(text)
    except Exception as error:  # noqa: BLE001 - tokenizer errors are sqlglot-internal kinds
        raise UnparseableError(
            f"SQL could not be tokenised as {dialect}: {_first_line(text)}"
        ) from error
    parsed: list[tuple[exp.Expr, str]] = []
    for chunk in _split(tokens):
        original = text[chunk[0].start : chunk[-1].end + 1]
        bare = chunk[0].token_type not in (TokenType.STRING, TokenType.IDENTIFIER)
        first = chunk[0].text.upper() if bare else ""
        if first in _SKIP_FIRST_WORDS:
            continue
        if first in _REWRITE_AS_INSERT:
            # REPLACE INTO / UPSERT INTO add rows like INSERT; sqlglot reads neither everywhere.
            rewritten = "INSERT " + text[chunk[0].end + 1 : chunk[-1].end + 1]
            parsed.extend((node, original) for node, _ in _parse(rewritten, dialect))
            continue
        try:
            nodes = engine.parser().parse(chunk, text)
        except Exception as error:  # noqa: BLE001 - ParseError, RecursionError, ...
            raise UnparseableError(
                f"SQL could not be parsed as {dialect}: {_first_line(original)}"
            ) from error
        for node in nodes:
            if node is None or isinstance(node, _NO_EFFECT):
                continue
            if not isinstance(node, _STATEMENTS):
                raise UnparseableError(
                    f"Not an SQL statement ({type(node).__name__}) in {dialect}: "
                    f"{_first_line(original)}"
                )
            parsed.append((node, original))
    return parsed


def _split(tokens: list[Token]) -> Iterable[list[Token]]:
    """Token runs between semicolons; a trigger body (`BEGIN ...; END`) stays whole."""
    chunk: list[Token] = []
    depth = 0  # open BEGIN blocks inside a CREATE TRIGGER
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON and depth == 0:
            if chunk:
                yield chunk
            chunk = []
            continue
        if chunk and chunk[0].token_type == TokenType.CREATE:
            if token.token_type == TokenType.BEGIN or (
                depth and token.token_type == TokenType.CASE
            ):
                depth += 1
            elif token.token_type == TokenType.END and depth:
                depth -= 1
        chunk.append(token)
    if chunk:
        yield chunk


# EndStatement: the END closing a trigger body (or a bare END, which commits).
_NO_EFFECT: tuple[type[exp.Expr], ...] = (
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.EndStatement,
)
_STATEMENTS: tuple[type[exp.Expr], ...] = (
    exp.Query,
    exp.Values,
    exp.DML,
    exp.DDL,
    exp.Drop,
    exp.TruncateTable,
    exp.Alter,
    exp.Grant,
    exp.Revoke,
    exp.Attach,
    exp.Detach,
    exp.Pragma,
    exp.Set,
    exp.Use,
    exp.Show,
    exp.Describe,
    exp.Analyze,
    exp.Command,
    exp.Cache,
    exp.Uncache,
    exp.LoadData,
    exp.Kill,
    exp.Summarize,
    exp.Refresh,
    exp.Export,
    exp.Install,
    exp.Comment,
)

_COMMAND_OPS: dict[str, SqlOp] = {
    "CREATE": "create",
    "DROP": "drop",
    "ALTER": "alter",
    "RENAME": "alter",
    "GRANT": "grant",
    "REVOKE": "grant",
    "TRUNCATE": "truncate",
    "INSERT": "insert",
    "UPDATE": "update",
    "DELETE": "delete",
    "MERGE": "update",
    "ATTACH": "attach",
    "DETACH": "attach",
    "PRAGMA": "pragma",
    "SET": "pragma",
    "RESET": "pragma",
}
# Statements sqlglot keeps as text that are `other`: maintenance, locking, cursors,
# procedures. (EXECUTE and CALL run code defined earlier; a policy should not allow
# `other` blindly.)
_OTHER_COMMANDS = frozenset(
    {
        *("VACUUM", "REINDEX", "ANALYZE", "ANALYSE", "CHECKPOINT", "CLUSTER", "OPTIMIZE"),
        *("LOCK", "UNLOCK", "LISTEN", "UNLISTEN", "NOTIFY", "DISCARD", "DEALLOCATE"),
        *("DECLARE", "FETCH", "MOVE", "CLOSE", "CALL", "EXECUTE", "EXEC", "EXPLAIN"),
        *("PREPARE", "DO", "COMMENT", "SECURITY", "REASSIGN", "REFRESH", "LOAD", "FLUSH"),
        *("CHECK", "REPAIR", "HANDLER", "SHOW", "DESCRIBE", "DESC", "INSTALL", "EXPORT"),
        *("IMPORT", "CHECKSUM", "KILL", "PURGE", "RESET", "SUMMARIZE", "FORCE"),
    }
)
_RENAME = re.compile(r"([\w.`\"]+)\s+TO\s+([\w.`\"]+)", re.IGNORECASE)
_DDL_NAMES = re.compile(
    r"(?:TRIGGER|FUNCTION|PROCEDURE|RULE|POLICY|EVENT|TYPE|EXTENSION|ROLE|USER|SEQUENCE"
    r"|TABLE|VIEW|INDEX|SCHEMA|DATABASE)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?([\w.`\"]+)"
    r"|\bON\s+([\w.`\"]+)",
    re.IGNORECASE,
)
_EXPLAIN_OPTIONS = re.compile(
    r"^\s*(?:\((?:[^()]|\([^()]*\))*\)\s*)?"
    r"(?:(?:ANALYZE|ANALYSE|VERBOSE|EXTENDED|QUERY\s+PLAN|FORMAT\s*=?\s*\w+)\s+)*",
    re.IGNORECASE,
)
_PREPARE = re.compile(r"^\s*[\w\"`]+\s*(?:\([^)]*\))?\s+(?:AS|FROM)\s+(.*)$", re.I | re.S)
_DOLLAR_BODY = re.compile(r"\$(\w*)\$(.*?)\$\1\$|'((?:[^']|'')*)'", re.S)
_BLOCK = re.compile(r"^\s*(?:DECLARE\b.*?)?\bBEGIN\b(.*?)\bEND\s*;?\s*$", re.I | re.S)


def _inner_sql(keyword: str, rest: str) -> str | None:
    """The SQL a wrapper statement runs (EXPLAIN, PREPARE, DO), if there is one."""
    if keyword == "EXPLAIN":
        return rest[_EXPLAIN_OPTIONS.match(rest).end() :]  # type: ignore[union-attr]
    if keyword == "PREPARE":
        found = _PREPARE.match(rest)
        if not found:
            return None
        body = found.group(1).strip()
        if body.startswith("'") and body.endswith("'"):  # MySQL: PREPARE s FROM '...'
            body = body[1:-1].replace("''", "'")
        return body
    if keyword == "DO":
        found = _DOLLAR_BODY.search(rest)
        if not found:
            raise UnparseableError(f"DO block without a readable body: {_first_line(rest)}")
        body = found.group(2) if found.group(3) is None else found.group(3).replace("''", "'")
        block = _BLOCK.match(body)
        # Only plain statements inside BEGIN ... END are read; PL/pgSQL control flow
        # (IF, LOOP, EXECUTE of a string) fails to parse and so blocks the call.
        return block.group(1) if block else body
    return None


def _copy_program(node: exp.Copy) -> bool:
    """True for `COPY ... FROM/TO PROGRAM 'cmd'`: the server runs a shell command."""
    return any(
        isinstance(f, exp.Identifier | exp.Var) and f.name.upper() == "PROGRAM"
        for f in node.args.get("files") or []
    )


# --- describing a parsed statement -----------------------------------------------------

# Functions with effects beyond reading rows: a SELECT calling one is `other`, not `select`.
_SIDE_EFFECT_FUNCTIONS = frozenset(
    {
        "load_extension",
        "writefile",
        "readfile",
        "edit",
        "fts3_tokenizer",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_promote",
        "pg_switch_wal",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_file_write",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "dblink",
        "dblink_exec",
        "set_config",
        "sys_exec",
        "sys_eval",
    }
)

_Described = tuple[SqlOp, list[exp.Table], bool, int | None]


def _describe(node: exp.Expr) -> _Described:
    """(op, tables written or read, has_where, rows) for one statement."""
    if isinstance(node, exp.Query):
        return _describe_query(node)
    if isinstance(node, exp.Values):
        return "select", [], True, None
    if isinstance(node, exp.Insert):
        return "insert", _tables(node.this), True, _insert_rows(node)
    if isinstance(node, exp.Update):
        return "update", _tables(node.this), _real_where(node), None
    if isinstance(node, exp.Delete):
        targets = node.args.get("tables") or [node.this]
        return "delete", _tables(*targets), _real_where(node), None
    if isinstance(node, exp.Merge):
        return _merge_op(node), _tables(node.this), not _always_true(node.args.get("on")), None
    if isinstance(node, exp.Copy):
        return ("insert" if node.args.get("kind") else "select"), _tables(node.this), True, None
    if isinstance(node, exp.Drop):
        return "drop", _tables(*(node.args.get("tables") or [node.this])), True, None
    if isinstance(node, exp.TruncateTable):
        op: SqlOp = "drop" if node.args.get("is_database") else "truncate"
        return op, _tables(*node.expressions), True, None
    if isinstance(node, exp.Alter):
        renamed = [a.this for a in node.args.get("actions") or [] if isinstance(a, exp.AlterRename)]
        return "alter", _tables(node.this, *renamed), True, None
    if isinstance(node, exp.Create):
        return "create", _tables(node.this), True, None
    if isinstance(node, exp.Grant | exp.Revoke):
        return "grant", _tables(node.args.get("securable")), True, None
    if isinstance(node, exp.Attach | exp.Detach):
        return "attach", [], True, None
    if isinstance(node, exp.Pragma | exp.Set):
        return "pragma", [], True, None
    if isinstance(node, exp.Show | exp.Describe | exp.Summarize):
        return "select", _tables(node.this), True, None
    if isinstance(node, exp.LoadData):
        return "insert", _tables(node.this), True, None
    if isinstance(node, exp.Comment):
        return "alter", _tables(node.this), True, None
    return "other", [], True, None


def _describe_query(node: exp.Query) -> _Described:
    """A SELECT (or UNION, VALUES): tables read; `SELECT ... INTO t` creates t."""
    into = node.args.get("into")
    if isinstance(into, exp.Into):
        return "create", _tables(into.this), True, None
    ctes = {cte.alias_or_name.lower() for cte in node.find_all(exp.CTE)}
    read = sorted(
        (t for t in node.find_all(exp.Table) if _table_name(t) not in ctes),
        key=_position,  # the order they are written in
    )
    functions = {
        (f.name if isinstance(f, exp.Anonymous) else f.sql_name()).lower()
        for f in node.find_all(exp.Func)
    }
    op: SqlOp = "other" if functions & _SIDE_EFFECT_FUNCTIONS else "select"
    return op, read, True, None


def _tables(*nodes: object) -> list[exp.Table]:
    """The tables named by statement targets (a Table, a Schema around one, a join)."""
    found: list[exp.Table] = []
    for node in nodes:
        if isinstance(node, exp.Table):
            found.append(node)
            found.extend(
                j.this for j in node.args.get("joins") or [] if isinstance(j.this, exp.Table)
            )
        elif isinstance(node, exp.Schema | exp.Index) and isinstance(node.this, exp.Table):
            found.append(node.this)
        elif isinstance(node, exp.Index) and isinstance(node.args.get("table"), exp.Table):
            found.append(node.args["table"])
        elif isinstance(node, exp.Expr):
            found.extend(node.find_all(exp.Table))
    return found


def _position(table: exp.Table) -> int:
    start = table.this.meta.get("start") if isinstance(table.this, exp.Expr) else None
    return start if isinstance(start, int) else 0


def _table_name(table: exp.Table) -> str:
    """A table's bare lower-case name (`"Main"."Users"` -> `users`); a schema's name."""
    return (table.name or table.db or table.catalog).lower()


def _unquote(name: str) -> str:
    return name.split(".")[-1].strip('"`[]').lower() if name else ""


def _normalised(node: exp.Expr, dialect: str, original: str) -> str:
    """The statement as written, whitespace collapsed; sqlglot's rendering when nested.

    Regenerating SQL from the tree would cost as much as parsing it (~0.3 ms), and the
    agent's own text is what an operator wants to read.
    """
    if original:
        return " ".join(original.split())
    try:
        return node.sql(dialect=dialect)
    except Exception:  # noqa: BLE001 - a generator gap must not hide the statement
        return type(node).__name__.upper()


def _insert_rows(node: exp.Insert) -> int | None:
    """Rows an INSERT adds when it lists them: VALUES tuples, or 1 for DEFAULT VALUES."""
    source = node.expression
    if isinstance(source, exp.Values):
        return len(source.expressions)
    if node.args.get("default"):
        return 1
    return None


def _merge_op(node: exp.Merge) -> SqlOp:
    """A MERGE counts as the most destructive thing any of its branches does."""
    actions = {type(w.args.get("then")) for w in node.find_all(exp.When)}
    if exp.Delete in actions or any(
        isinstance(w.args.get("then"), exp.Var) and w.args["then"].name.upper() == "DELETE"
        for w in node.find_all(exp.When)
    ):
        return "delete"
    return "update" if exp.Update in actions else "insert"


def _real_where(node: exp.Expr) -> bool:
    """True when an UPDATE/DELETE has a WHERE that is not always true."""
    where = node.args.get("where")
    return isinstance(where, exp.Where) and not _always_true(where.this)


_SIMPLIFY_NODES = 200  # bigger conditions skip the simplifier (time), judged by form only


def _always_true(condition: exp.Expr | None) -> bool:
    """True when a condition holds for every row, as far as can be told without data.

    Judged first by form (`x = x`, `p OR NOT p`, non-zero literals), then again after
    sqlglot's simplifier folds constants (`'a' = 'a'`, `NOT (1 = 0)`, `2 > 1`).
    Subqueries are taken as real conditions.
    """
    if condition is None:
        return True
    if _truth(condition) is True:
        return True
    if condition.find(exp.Query) is not None:
        return False
    # The simplifier only helps where a part of the condition is constant (`2 > 1`,
    # `'a' = 'a'`); skipping it otherwise keeps the common `WHERE id = 5` cheap.
    if all(leaf.find(exp.Column) is not None for leaf in _leaves(condition)):
        return False
    if sum(1 for _ in condition.walk()) > _SIMPLIFY_NODES:
        return False
    try:
        simplified = simplify(condition.copy())
    except Exception:  # noqa: BLE001 - cannot tell: count it as no WHERE (fail closed)
        return True
    return _truth(simplified) is True


def _truth(node: exp.Expr) -> bool | None:
    """The constant truth of a condition by its form, None when it depends on the row."""
    if isinstance(node, exp.Paren):
        return _truth(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this) != 0
        except ValueError:
            return None
    if isinstance(node, exp.Not):
        inner = _truth(node.this)
        return None if inner is None else not inner
    if isinstance(node, exp.And):
        parts = [_truth(p) for p in node.flatten()]
        return True if all(p is True for p in parts) else (False if False in parts else None)
    if isinstance(node, exp.Or):
        disjuncts = [_strip(p) for p in node.flatten()]
        if any(_truth(p) is True for p in disjuncts):
            return True
        # p OR NOT p (e.g. x IS NULL OR x IS NOT NULL) covers every row.
        negated = {_strip(d.this) for d in disjuncts if isinstance(d, exp.Not)}
        if any(d in negated for d in disjuncts):
            return True
        return None
    if isinstance(node, exp.EQ | exp.GTE | exp.LTE | exp.NullSafeEQ | exp.Like | exp.ILike):
        left, right = node.this, node.expression
        if left == right:  # x = x: true on every row where x is not NULL
            return True
        if isinstance(node, exp.Like | exp.ILike) and right == exp.Literal.string("%"):
            return True
    return None


def _leaves(node: exp.Expr) -> Iterable[exp.Expr]:
    """The conditions joined by AND, OR, NOT and parentheses."""
    if isinstance(node, exp.And | exp.Or | exp.Xor):
        for part in (node.this, node.expression):
            yield from _leaves(part)
    elif isinstance(node, exp.Not | exp.Paren):
        yield from _leaves(node.this)
    else:
        yield node


def _strip(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node
