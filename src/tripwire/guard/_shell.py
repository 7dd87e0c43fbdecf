"""A shell command to the effects it would have, read with a real shell parser.

`shell_effects("cd proj && sed -i s/x/y/ oversight.yaml", "/w")` is
`[exec cd, exec sed, write /w/proj/oversight.yaml]`. The command is parsed with bashlex
(patched in `_shell_parse`), then walked like a shell would run it: `cd` moves the
working directory, variables and aliases are tracked, functions run where they are
called, pipes carry what flows through them (a literal, a file's content, a download),
`bash -c`, `eval`, `ssh host CMD`, `xargs`, `find -exec` and decoded payloads are
analysed recursively (at most `MAX_DEPTH` levels). Per-program knowledge (which
arguments of `cp` are read, which written) lives in `_shell_commands`, `_shell_net`
and `_shell_exec`.

What the analysis cannot see is said, never guessed: a path that depends on an unknown
variable is an effect with `path=None`; a program name or code that cannot be recovered
is an `opaque` effect; text bashlex cannot parse, or that nests or grows beyond the
limits, raises `UnparseableError` (the policy denies it).
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
from typing import Any

from .._errors import UnparseableError
from ._effects import Effect
from ._shell_commands import HANDLERS
from ._shell_parse import parse_shell
from ._shell_state import (
    NO_INPUT,
    UNKNOWN_OUTPUT,
    Arg,
    Cmd,
    Scope,
    Stream,
    merge_streams,
    truncate_via,
)
from ._shell_words import WordContext, expand_word

__all__ = ["MAX_COMMANDS", "MAX_DEPTH", "shell_effects"]

MAX_DEPTH = 8
"""Deepest nesting of commands inside commands (`bash -c "eval '...'"`) analysed."""

MAX_COMMANDS = 2_000
"""Most simple commands one call may expand to (loops, functions, brace lists)."""

MAX_LOOP_VALUES = 16
"""A `for` loop over more words than this is analysed once, with the variable unknown."""

_CACHE_SIZE = 4096


def shell_effects(command: str, cwd: str, *, home: str | None = None) -> list[Effect]:
    """The effects running `command` in `cwd` would have.

    Args:
        command: The shell command as the agent passed it to its shell tool.
        cwd: The directory it runs in (absolute).
        home: The agent's home directory (for `~` and `$HOME`); defaults to `$HOME`.

    Returns:
        The effects, in the order the shell would cause them, without the tool call's
        own `call` effect. Paths are absolute and normalised (symlinks unresolved).

    Raises:
        UnparseableError: The command cannot be parsed, or nests or expands beyond the
            guard's limits.

    Examples:
        >>> [e.kind for e in shell_effects("rm -f notes.txt", "/w")]
        ['exec', 'delete']
    """
    return list(_cached_effects(command, cwd, home))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _cached_effects(command: str, cwd: str, home: str | None) -> tuple[Effect, ...]:
    local_home = home or os.environ.get("HOME") or "/root"
    run = _Run()
    scope = Scope(cwd=posixpath.normpath(cwd or "/"), home=local_home)
    walker = _Walker(run, scope, command, depth=0)
    walker.run_source(NO_INPUT)
    walker.run_uncalled_functions()
    return tuple(run.effects)


class _Run:
    """Effects and limits shared by every walker of one `shell_effects` call."""

    def __init__(self) -> None:
        self.effects: list[Effect] = []
        self._seen: set[tuple[Any, ...]] = set()
        self.commands = 0
        self.called: set[str] = set()

    def add(self, effect: Effect) -> None:
        # Rules may match an exec's command line (`via`): `crontab -l` and `crontab -`
        # are different execs, and the second must not be folded into the first.
        key = (
            effect.via if effect.kind == "exec" else None,
            effect.kind,
            effect.path,
            effect.source,
            effect.host,
            effect.program,
            effect.target,
            effect.database,
            effect.sql,
        )
        if key not in self._seen:
            self._seen.add(key)
            self.effects.append(effect)

    def count_command(self) -> None:
        self.commands += 1
        if self.commands > MAX_COMMANDS:
            raise UnparseableError(
                f"shell command expands to more than {MAX_COMMANDS} commands: "
                "split it into smaller commands"
            )


_HEREDOC_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


class _Walker:
    """Walks one parsed source text; nested text gets its own walker (depth + 1)."""

    def __init__(self, run: _Run, scope: Scope, source: str, *, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise UnparseableError(
                f"shell command nests commands more than {MAX_DEPTH} levels deep "
                "(bash -c / eval / ssh / decoded payloads): the guard cannot follow it"
            )
        self.run = run
        self.scope = scope
        self.source = source
        self.depth = depth
        self._active_functions: set[str] = set()

    # --- entry points -------------------------------------------------------------------

    def run_source(self, stdin: Stream) -> Stream:
        nodes = parse_shell(self.source)
        return merge_streams([self.node(n, stdin) for n in nodes])

    def run_uncalled_functions(self) -> None:
        # A function defined but not called here may still run (trap, export -f):
        # its body counts, at the end, so nothing defined goes unseen.
        for name, (body, source) in list(self.scope.functions.items()):
            if name not in self.run.called:
                self.run.called.add(name)
                _Walker(self.run, self.scope, source, depth=self.depth).node(body, NO_INPUT)

    # --- structure ----------------------------------------------------------------------

    def node(self, n: Any, stdin: Stream) -> Stream:
        kind = n.kind
        if kind == "command":
            return self.command(n, stdin)
        if kind == "pipeline":
            return self.pipeline(n, stdin)
        if kind == "list":
            return merge_streams(
                [
                    self.node(p, stdin)
                    for p in n.parts
                    if p.kind not in ("operator", "reservedword", "pipe")
                ]
            )
        if kind == "compound":
            return self.compound(n, stdin)
        if kind in ("if", "while", "until"):
            return self.block(n, stdin)
        if kind == "for":
            return self.for_loop(n, stdin)
        if kind == "function":
            self.scope.functions[n.name.word] = (n.body, self.source)
            return NO_INPUT
        return NO_INPUT

    def pipeline(self, n: Any, stdin: Stream) -> Stream:
        stream = stdin
        for part in n.parts:
            if part.kind in ("pipe", "reservedword"):
                continue
            stream = self.node(part, stream)
        return stream

    def compound(self, n: Any, stdin: Stream) -> Stream:
        subshell = bool(n.list) and n.list[0].kind == "reservedword" and n.list[0].word == "("
        walker = self
        if subshell:
            walker = _Walker(self.run, self.scope.copy(), self.source, depth=self.depth)
        cmd = self._cmd_for(n, "{", [], stdin, {})
        stdin, outputs = self.redirects(cmd, n.redirects, stdin)
        out = merge_streams(
            [
                walker.node(p, stdin)
                for p in n.list
                if p.kind not in ("reservedword", "operator", "pipe")
            ]
        )
        return self.finish_output(cmd, out, outputs)

    def block(self, n: Any, stdin: Stream) -> Stream:
        outputs: list[Stream] = []
        is_case = getattr(n, "case", False)
        for index, part in enumerate(n.parts):
            if part.kind in ("reservedword", "operator", "pipe"):
                continue
            if part.kind == "word":
                if is_case and index == 1:  # the subject may hold command substitutions
                    self.words([part])
                continue
            outputs.append(self.node(part, stdin))
        return merge_streams(outputs)

    def for_loop(self, n: Any, stdin: Stream) -> Stream:
        parts = n.parts
        name = parts[1].word if len(parts) > 1 and parts[1].kind == "word" else ""
        items: list[Any] = []
        body: list[Any] = []
        state = "head"
        for part in parts[2:]:
            if part.kind == "reservedword" and part.word == "in":
                state = "items"
            elif part.kind == "reservedword" and part.word in ("do", "{"):
                state = "body"
            elif part.kind == "reservedword" or part.kind == "operator":
                if state == "items":
                    state = "head"
            elif state == "items" and part.kind == "word":
                items.append(part)
            elif state == "body":
                body.append(part)
        values: list[str | None] = [a.value for a in self.words(items)] if items else [None]
        if len(values) > MAX_LOOP_VALUES or not values:
            values = [None]
        outputs: list[Stream] = []
        for value in values:
            self.scope.variables[name] = value
            outputs.extend(self.node(b, stdin) for b in body)
        return merge_streams(outputs)

    # --- words --------------------------------------------------------------------------

    def substitutions(self, word: Any) -> dict[int, tuple[int, str | None]]:
        """Analyse a word's `$(...)`, backquotes and `<(...)`; their values by offset."""
        found: dict[int, tuple[int, str | None]] = {}
        start = word.pos[0]
        for part in getattr(word, "parts", []) or []:
            if part.kind in ("commandsubstitution", "processsubstitution"):
                sub = _Walker(self.run, self.scope.copy(), self.source, depth=self.depth)
                out = sub.node(part.command, NO_INPUT)
                value: str | None = None
                if part.kind == "commandsubstitution" and out.text is not None:
                    value = out.text.rstrip("\n")
                elif part.kind == "processsubstitution":
                    value = "/dev/fd/63"
                found[part.pos[0] - start] = (part.pos[1] - start, value)
        return found

    def word_context(self, word: Any, env: dict[str, str | None] | None = None) -> WordContext:
        scope = self.scope
        lookup = scope.lookup
        if env:

            def lookup(name: str) -> str | None:
                return env[name] if name in env else scope.lookup(name)

        return WordContext(
            lookup=lookup, home=scope.home, cwd=scope.cwd, substitutions=self.substitutions(word)
        )

    def raw(self, node: Any) -> str:
        return str(self.source[node.pos[0] : node.pos[1]])

    def words(self, nodes: list[Any]) -> list[Arg]:
        args: list[Arg] = []
        for node in nodes:
            raw = self.raw(node)
            for value in expand_word(raw, self.word_context(node)):
                args.append(Arg(value, raw))
        return args

    def word_value(self, node: Any) -> str | None:
        values = [a.value for a in self.words([node])]
        if any(v is None for v in values):
            return None
        return " ".join(v for v in values if v is not None)

    # --- simple commands ----------------------------------------------------------------

    def _cmd_for(
        self, n: Any, name: str, args: list[Arg], stdin: Stream, env: dict[str, str | None]
    ) -> Cmd:
        return Cmd(
            engine=self,
            scope=self.scope,
            name=name,
            args=args,
            stdin=stdin,
            via=truncate_via(self.raw(n)),
            env=env,
            sink=self.run.add,
        )

    def command(self, n: Any, stdin: Stream) -> Stream:
        self.run.count_command()
        assignments: list[Any] = []
        words: list[Any] = []
        redirects: list[Any] = []
        for part in n.parts:
            if part.kind == "assignment" and not words:
                assignments.append(part)
            elif part.kind == "redirect":
                redirects.append(part)
            elif part.kind in ("word", "assignment"):
                words.append(part)
        env: dict[str, str | None] = {}
        for node in assignments:
            name, _, _ = self.raw(node).partition("=")
            name = name.rstrip("+")
            value_node_raw = self.raw(node)[len(name) :].lstrip("+=")
            ctx = self.word_context(node)
            # The value's substitutions are offset by the `NAME=` prefix.
            shift = len(self.raw(node)) - len(value_node_raw)
            ctx = WordContext(
                lookup=ctx.lookup,
                home=ctx.home,
                cwd=ctx.cwd,
                substitutions={
                    k - shift: (e - shift, v) for k, (e, v) in ctx.substitutions.items()
                },
            )
            values = expand_word(value_node_raw, ctx) if value_node_raw else [""]
            env[name] = (
                None
                if any(v is None for v in values)
                else " ".join(v for v in values if v is not None)
            )
        args = self.words(words)
        cmd = self._cmd_for(n, "", args, stdin, env)
        stdin, outputs = self.redirects(cmd, redirects, stdin)
        if not words:
            self.scope.variables.update(env)
            return self.finish_output(cmd, NO_INPUT, outputs)
        if not args:  # the words expanded to nothing (`$EMPTY`)
            return self.finish_output(cmd, NO_INPUT, outputs)
        first = self.raw(words[0])
        if first in self.scope.aliases:
            rest = self.source[words[0].pos[1] : n.pos[1]]
            out = self.run_text(
                cmd, self.scope.aliases[first] + rest, stdin=stdin, nested_scope=False
            )
            return self.finish_output(cmd, out, outputs)
        out = self.run_argv(cmd, args, stdin)
        return self.finish_output(cmd, out, outputs)

    def redirects(
        self, cmd: Cmd, redirects: list[Any], stdin: Stream
    ) -> tuple[Stream, list[str | None]]:
        """Apply redirections: the command's standard input, and the files its output goes to."""
        outputs: list[str | None] = []
        for r in redirects:
            kind = r.type
            target = r.output
            if kind in ("<<", "<<-"):
                text = r.heredoc.value if r.heredoc is not None else ""
                if not any(q in self.raw(target) for q in "'\"\\"):
                    text = self.expand_heredoc(cmd, text)
                stdin = Stream(text=text)
                continue
            if not hasattr(target, "kind"):  # `2>&1`, `<&3`: a file descriptor
                continue
            if kind == "<<<":
                value = self.word_value(target)
                stdin = Stream(text=value + "\n") if value is not None else UNKNOWN_OUTPUT
                continue
            values = self.words([target])
            value = values[0].value if len(values) == 1 else None
            if kind in (">&", "<&") and value is not None and (value.isdigit() or value == "-"):
                continue
            if kind in ("<", "<&"):
                path = cmd.read(value)
                stdin = Stream(sources=(path,) if path else (), unknown=path is None)
            else:  # >, >>, >|, &>, &>>, <>, >&
                outputs.append(cmd.write(value))
        return stdin, outputs

    def expand_heredoc(self, cmd: Cmd, text: str) -> str:
        """An unquoted here-document: run its substitutions, fill in known variables."""
        if "$(" in text or "`" in text:
            for inner in _substitution_texts(text):
                self.run_text(cmd, inner, nested_scope=True)

        def fill(match: re.Match[str]) -> str:
            value = cmd.lookup(match.group(1) or match.group(2))
            return value if value is not None else match.group(0)

        return _HEREDOC_VAR.sub(fill, text) if "$" in text else text

    def finish_output(self, cmd: Cmd, out: Stream, outputs: list[str | None]) -> Stream:
        """Output redirected to files: the content lands there (a copy, if it is a file's)."""
        if not outputs:
            return out
        for path in outputs:
            for source in out.sources:
                if path is not None and source != path:
                    cmd.copy(source, path)
        return Stream(text="")

    # --- the Engine protocol (used by handlers) -----------------------------------------

    def emitted(self) -> list[Effect]:
        return self.run.effects

    def run_argv(self, cmd: Cmd, argv: list[Arg], stdin: Stream) -> Stream:
        if not argv:
            return NO_INPUT
        program = argv[0]
        if program.value is None:
            cmd.opaque(None)
            return UNKNOWN_OUTPUT
        name = posixpath.basename(program.value.rstrip("/")) or program.value
        if name in self.scope.functions and "/" not in program.value:
            return self.call_function(cmd, name, stdin)
        cmd.emit("exec", program=name)
        if name.startswith("mkfs."):
            cmd.emit("exec", program="mkfs")
        sub = Cmd(
            engine=self,
            scope=self.scope,
            name=name,
            args=list(argv[1:]),
            stdin=stdin,
            via=cmd.via,
            env=cmd.env,
            sink=self.run.add,
        )
        if "/" in program.value and name not in HANDLERS:
            sub.read(program.value)  # running a script by path reads it
        handler = HANDLERS.get(name)
        out = handler(sub) if handler is not None else None
        if out is not None:
            return out
        sources = tuple(dict.fromkeys([*sub.reads, *stdin.sources]))
        return Stream(sources=sources, hosts=stdin.hosts, unknown=True)

    def call_function(self, cmd: Cmd, name: str, stdin: Stream) -> Stream:
        self.run.called.add(name)
        if name in self._active_functions:  # recursion: the body is already being analysed
            return UNKNOWN_OUTPUT
        body, source = self.scope.functions[name]
        walker = _Walker(self.run, self.scope, source, depth=self.depth + 1)
        walker._active_functions = self._active_functions | {name}
        return walker.node(body, stdin)

    def run_text(
        self,
        cmd: Cmd,
        text: str | None,
        *,
        stdin: Stream = NO_INPUT,
        program: str | None = None,
        decoder: str | None = None,
        scope: Scope | None = None,
        nested_scope: bool = True,
    ) -> Stream:
        if text is None:
            cmd.opaque(program)
            return UNKNOWN_OUTPUT
        if scope is None:
            scope = self.scope.copy() if nested_scope else self.scope
        if decoder is not None:
            scope = scope.copy()
            scope.decoder = decoder
        walker = _Walker(self.run, scope, text, depth=self.depth + 1)
        if decoder is None:
            out = walker.run_source(stdin)
        else:
            try:
                out = walker.run_source(stdin)
            except UnparseableError:
                # A decoded payload that does not parse is code the guard cannot see.
                cmd.opaque(program)
                return UNKNOWN_OUTPUT
        walker.run_uncalled_functions()
        return out

    def run_code(
        self, cmd: Cmd, language: str, code: str | None, *, decoder: str | None = None
    ) -> None:
        from ._shell_exec import run_code

        run_code(cmd, language, code, decoder=decoder)

    def run_sql(
        self, cmd: Cmd, text: str | None, *, database: str | None, dialect: str | None
    ) -> None:
        if text is None:
            cmd.emit("opaque", program=cmd.name, database=database)
            return
        try:
            from ._sql import sql_effects  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            cmd.emit("opaque", program=cmd.name, database=database)
            return
        try:
            effects = sql_effects(text, database=database, via=cmd.via, dialect=dialect)
        except UnparseableError:
            cmd.emit("opaque", program=cmd.name, database=database)
            return
        for effect in effects:
            update: dict[str, Any] = {}
            if cmd.scope.host is not None and effect.host is None:
                update["host"] = cmd.scope.host
            if cmd.scope.decoder:
                update["via"] = truncate_via(f"[decoded {cmd.scope.decoder}] {effect.via}")
            self.run.add(effect.model_copy(update=update) if update else effect)


def _substitution_texts(text: str) -> list[str]:
    """The commands inside `$(...)` and backquotes of here-document text."""
    found: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$(", i) and not text.startswith("$((", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            found.append(text[i + 2 : j - 1])
            i = j
        elif text[i] == "`":
            end = text.find("`", i + 1)
            if end < 0:
                break
            found.append(text[i + 1 : end])
            i = end + 1
        else:
            i += 1
    return found
