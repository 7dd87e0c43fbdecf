"""The shell analyser's working state.

Data flowing through pipes (`Stream`), shell variables (`Scope`), and the command being
analysed as the per-program handlers see it (`Cmd`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ._effects import Effect, EffectKind, SqlStatement
from ._paths import normalise_path

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["NO_INPUT", "Arg", "Cmd", "Engine", "Scope", "Stream", "UNKNOWN_OUTPUT", "split_options"]

MAX_VIA_CHARS = 400

# Files that are not files: writing or reading them changes nothing a rule protects.
_VIRTUAL_FILES = frozenset(
    {"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "/dev/zero"}
)
_VIRTUAL_PREFIXES = ("/dev/fd/", "/proc/self/fd/")


def truncate_via(text: str) -> str:
    """`text` cut to fit an effect's `via` (400 characters)."""
    text = text.strip()
    return text if len(text) <= MAX_VIA_CHARS else text[: MAX_VIA_CHARS - 3] + "..."


def is_virtual(path: str) -> bool:
    """True for `/dev/null`, `/dev/stdout`, `/dev/fd/3` and the like."""
    return path in _VIRTUAL_FILES or path.startswith(_VIRTUAL_PREFIXES)


@dataclass(frozen=True)
class Stream:
    """What flows into a command's standard input (or out of its standard output).

    An empty Stream is the terminal: nothing was piped or redirected.
    """

    text: str | None = None
    """The content, when the analyser knows it (`echo`, a here-document, a decoded blob)."""

    sources: tuple[str, ...] = ()
    """Local files whose content flows through (`cat f |`, `< f`, `tar c dir |`)."""

    hosts: tuple[str | None, ...] = ()
    """Network origins of the content (`curl URL |`); None for an unknown host."""

    unknown: bool = False
    """Part of the content comes from something the analyser cannot see."""

    names: tuple[str | None, ...] | None = None
    """File names the upstream lists (`find` output) for `xargs`; None if not a listing."""

    decoder: str | None = None
    """The decoder that produced `text` (`base64`, `hex`, `printf`), for `via` marks."""

    @property
    def piped(self) -> bool:
        """Something feeds the command (not the terminal)."""
        return self != NO_INPUT

    @property
    def opaque(self) -> bool:
        """Content an interpreter would run that the analyser cannot see."""
        return self.text is None and (self.unknown or bool(self.hosts))


NO_INPUT = Stream()
UNKNOWN_OUTPUT = Stream(unknown=True)


def merge_streams(streams: Iterable[Stream]) -> Stream:
    """The concatenated output of several commands (`{ a; b; } | c`)."""
    items = [s for s in streams if s.piped]
    if not items:
        return NO_INPUT
    if len(items) == 1:
        return items[0]
    texts = [s.text for s in items]
    return Stream(
        text="".join(t for t in texts if t is not None)
        if all(t is not None for t in texts)
        else None,
        sources=tuple(dict.fromkeys(p for s in items for p in s.sources)),
        hosts=tuple(dict.fromkeys(h for s in items for h in s.hosts)),
        unknown=any(s.unknown for s in items),
        decoder=next((s.decoder for s in items if s.decoder), None),
    )


@dataclass
class Scope:
    """Shell state that commands change and later commands see."""

    cwd: str | None
    """The working directory; None after a `cd` to an unknown place."""

    home: str
    """What `~` and `$HOME` mean here."""

    host: str | None = None
    """The remote host commands run on (inside `ssh host '...'`); None for local."""

    variables: dict[str, str | None] = field(default_factory=dict)
    """Shell variables: a value, or None when assigned something unknown."""

    aliases: dict[str, str] = field(default_factory=dict)
    """`alias name=text` definitions."""

    functions: dict[str, tuple[Any, str]] = field(default_factory=dict)
    """Function name to (body node, the source text its positions refer to)."""

    decoder: str | None = None
    """Set when the commands came out of a decoded payload (their `via` says so)."""

    def copy(self) -> Scope:
        """An independent copy, for a subshell."""
        return replace(
            self,
            variables=dict(self.variables),
            aliases=dict(self.aliases),
            functions=dict(self.functions),
        )

    def lookup(self, name: str) -> str | None:
        """A variable's value; `$HOME` and `$PWD` are known, others only if assigned."""
        if name in self.variables:
            return self.variables[name]
        if name == "HOME":
            return self.home
        if name == "PWD":
            return self.cwd
        return None

    def resolve(self, path: str | None) -> str | None:
        """`path` made absolute and normalised against this scope's directory."""
        if path is None or path == "":
            return None
        if self.host is not None:
            if path.startswith("~"):
                path = self.home + path[1:]
            if not path.startswith("/"):
                if self.cwd is None:
                    return None
                path = posixpath.join(self.cwd, path)
            collapsed = posixpath.normpath(path)
            return "/" + collapsed.lstrip("/") if collapsed.startswith("//") else collapsed
        if not path.startswith(("/", "~")) and self.cwd is None:
            return None
        return normalise_path(path, self.cwd or "/", home=self.home)


@dataclass(frozen=True)
class Arg:
    """One argument of a command after expansion."""

    value: str | None
    """The argument, or None when it depends on something unknown."""

    raw: str
    """The argument as written (for `kill` targets and messages)."""

    @property
    def text(self) -> str:
        """The value if known, else the raw text."""
        return self.value if self.value is not None else self.raw


class Engine(Protocol):
    """What handlers may ask of the analyser (implemented in `_shell.py`)."""

    def emitted(self) -> list[Effect]:
        """The effects recorded so far in this analysis."""
        ...

    def run_argv(self, cmd: Cmd, argv: list[Arg], stdin: Stream) -> Stream:
        """Analyse another command line (a wrapper's payload) as if run here."""
        ...

    def run_text(
        self,
        cmd: Cmd,
        text: str | None,
        *,
        stdin: Stream = NO_INPUT,
        program: str | None = None,
        decoder: str | None = None,
        scope: Scope | None = None,
    ) -> Stream:
        """Analyse shell text (`bash -c`, `eval`, a decoded payload); None text is opaque."""
        ...

    def run_code(
        self, cmd: Cmd, language: str, code: str | None, *, decoder: str | None = None
    ) -> None:
        """Analyse inline code of `python`, `perl`, `ruby`, `node`, `php`."""
        ...

    def run_sql(
        self, cmd: Cmd, text: str | None, *, database: str | None, dialect: str | None
    ) -> None:
        """Analyse SQL run against `database`; None text is SQL the guard cannot see."""
        ...


@dataclass
class Cmd:
    """One simple command as a handler sees it, after wrappers are peeled."""

    engine: Engine
    """The analyser, for nested commands and code."""

    scope: Scope
    """Shell state (cwd, variables, host)."""

    name: str
    """The program's base name (`rm` for `/bin/rm`)."""

    args: list[Arg]
    """The arguments after the program."""

    stdin: Stream
    """What the command reads on standard input."""

    via: str
    """The command's text, for effects."""

    env: dict[str, str | None] = field(default_factory=dict)
    """Variables assigned for this command only (`PGDATABASE=prod psql`)."""

    sink: Callable[[Effect], None] = print
    """Where effects go."""

    reads: list[str] = field(default_factory=list)
    """Local files this command reads (its output carries their content)."""

    # --- effects ------------------------------------------------------------------------

    def emit(self, kind: EffectKind, *, via: str | None = None, **fields: Any) -> None:
        """Record an effect of this command (`host` defaults to the scope's host)."""
        if "host" not in fields or fields["host"] is None:
            fields["host"] = self.scope.host
        text = via if via is not None else self.via
        if self.scope.decoder:
            text = f"[decoded {self.scope.decoder}] {text}"
        self.sink(Effect(kind=kind, via=truncate_via(text), **fields))

    def path(self, arg: Arg | str | None) -> str | None:
        """An argument as an absolute path in this scope (None if unknown)."""
        value = arg.value if isinstance(arg, Arg) else arg
        return self.scope.resolve(value)

    def file_effect(
        self, kind: EffectKind, arg: Arg | str | None, *, via: str | None = None
    ) -> str | None:
        """Emit `read`/`write`/`delete`/`permission` on a path argument; returns the path."""
        path = self.path(arg)
        if path is not None and is_virtual(path):
            return path
        if kind == "read" and path is not None and self.scope.host is None:
            self.reads.append(path)
        self.emit(kind, path=path, via=via)
        return path

    def read(self, arg: Arg | str | None) -> str | None:
        """Emit a read of `arg`."""
        return self.file_effect("read", arg)

    def write(self, arg: Arg | str | None) -> str | None:
        """Emit a write of `arg`."""
        return self.file_effect("write", arg)

    def delete(self, arg: Arg | str | None) -> str | None:
        """Emit a delete of `arg`."""
        return self.file_effect("delete", arg)

    def copy(self, source: str | None, dest: str | None, *, host: str | None = None) -> None:
        """Emit a copy of `source` to `dest` (on `host` if given)."""
        if source is not None and is_virtual(source):
            return
        self.emit("copy", source=source, path=dest, host=host)

    def network(self, host: str | None) -> None:
        """Emit a connection to `host`."""
        self.emit("network", host=host)

    def opaque(self, program: str | None, *, via: str | None = None) -> None:
        """Emit code the guard cannot see into."""
        self.emit("opaque", program=program, via=via)

    def lookup(self, name: str) -> str | None:
        """A variable, from this command's prefix assignments first."""
        if name in self.env:
            return self.env[name]
        return self.scope.lookup(name)

    def sql_effect(self, statement: SqlStatement, database: str | None) -> None:
        """Emit an `sql` effect (used when SQL is synthesised, e.g. `dropdb`)."""
        self.emit("sql", sql=statement, database=database)


def split_options(
    args: Sequence[Arg],
    *,
    short_values: str = "",
    long_values: frozenset[str] = frozenset(),
    stop_at_operand: bool = False,
) -> tuple[list[tuple[str, Arg | None]], list[Arg]]:
    """Split getopt-style arguments into options and operands.

    Args:
        args: The arguments after the program name.
        short_values: Short option letters that take a value (`-o FILE`, `-oFILE`).
        long_values: Long options that take a value as the next argument (`--output F`);
            `--opt=value` is always read as a value.
        stop_at_operand: Stop at the first operand (wrappers: `sudo -u x rm -f y`).

    Returns:
        Options as (`-x` or `--long`, value or None) and the operands in order.
    """
    options: list[tuple[str, Arg | None]] = []
    operands: list[Arg] = []
    i = 0
    n = len(args)
    while i < n:
        arg = args[i]
        value = arg.value
        if value is None or value == "-" or not value.startswith("-"):
            operands.append(arg)
            i += 1
            if stop_at_operand:
                operands.extend(args[i:])
                break
            continue
        if value == "--":
            operands.extend(args[i + 1 :])
            break
        if value.startswith("--"):
            name, eq, rest = value.partition("=")
            if eq:
                options.append((name, Arg(rest, rest)))
            elif name in long_values and i + 1 < n:
                options.append((name, args[i + 1]))
                i += 1
            else:
                options.append((name, None))
            i += 1
            continue
        letters = value[1:]
        for index, letter in enumerate(letters):
            if letter in short_values:
                attached = letters[index + 1 :]
                if attached:
                    options.append(("-" + letter, Arg(attached, attached)))
                elif i + 1 < n:
                    options.append(("-" + letter, args[i + 1]))
                    i += 1
                else:
                    options.append(("-" + letter, None))
                break
            options.append(("-" + letter, None))
        i += 1
    return options, operands


def has_option(options: list[tuple[str, Arg | None]], *names: str) -> bool:
    """True if any of `names` was given."""
    return any(name in names for name, _ in options)


def option_values(options: list[tuple[str, Arg | None]], *names: str) -> list[Arg]:
    """The values given to any of `names`, in order."""
    return [value for name, value in options if name in names and value is not None]
