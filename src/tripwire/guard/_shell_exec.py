"""Handlers for programs that run other code, change shell state, or feed pipes.

Wrappers (`sudo`, `env`, `timeout`, `xargs`, `find -exec`), shells and interpreters
(`bash -c`, `python3 -c`, `perl -e`), shell builtins that change state (`cd`, `export`,
`alias`, `eval`), text producers and
decoders feeding pipes (`echo`, `printf`, `base64 -d`, `xxd -r -p`, `rev`, `tr`),
process control (`kill`, `pkill`, `systemctl stop`) and SQL clients.
"""

from __future__ import annotations

import base64
import posixpath
import re
import shlex
from collections.abc import Callable

from ._decode import (
    b64decode_text,
    echo_escapes,
    hexdecode_text,
    printf_format,
    reverse_lines,
    tr_translate,
)
from ._shell_state import (
    NO_INPUT,
    UNKNOWN_OUTPUT,
    Arg,
    Cmd,
    Stream,
    has_option,
    option_values,
    split_options,
)

__all__ = ["EXEC_HANDLERS", "run_code"]

Handler = Callable[[Cmd], Stream | None]

MAX_FAN_OUT = 16
"""Most items `xargs` / `parallel` / `find` targets are expanded to one by one."""

UNKNOWN_WORD = "${__tripwire_unknown__}"
"""Shell text for a value the guard does not know: it expands to an unknown path."""


def _peel(cmd: Cmd, rest: list[Arg]) -> Stream | None:
    """Run the wrapped command; a wrapper with nothing to run does nothing."""
    if not rest:
        return None
    return cmd.engine.run_argv(cmd, rest, cmd.stdin)


def _skip_options(args: list[Arg], with_value: frozenset[str] = frozenset()) -> list[Arg]:
    """The arguments after leading options (`-x`, `--x=y`, and `with_value` + value)."""
    i = 0
    while i < len(args):
        value = args[i].value
        if value is None or not value.startswith("-") or value == "-":
            break
        i += 1
        if value == "--":
            break
        if value in with_value:
            i += 1
    return args[i:]


# --- wrappers ----------------------------------------------------------------------------


def _sudo(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="CDghpRrTtUu", stop_at_operand=True)
    if has_option(options, "-e", "--edit") or cmd.name == "sudoedit":
        for arg in operands:
            cmd.write(arg)
        return None
    directories = option_values(options, "-D", "--chdir")
    if directories:
        cmd = _in_cwd(cmd, cmd.path(directories[-1]))
    return _peel(cmd, operands)


def _in_cwd(cmd: Cmd, cwd: str | None) -> Cmd:
    scope = cmd.scope.copy()
    scope.cwd = cwd
    return Cmd(
        cmd.engine, scope, cmd.name, cmd.args, cmd.stdin, cmd.via, cmd.env, cmd.sink, cmd.reads
    )


def _env(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    env = dict(cmd.env)
    while args:
        value = args[0].value
        if value is None:
            break
        if value in ("-i", "-", "--ignore-environment", "-0", "--null", "-v", "--debug"):
            args.pop(0)
        elif value in ("-u", "--unset", "-C", "--chdir", "-S", "--split-string") and len(args) > 1:
            args.pop(0)
            operand = args.pop(0)
            if value in ("-C", "--chdir"):
                cmd = _in_cwd(cmd, cmd.path(operand))
            elif value in ("-S", "--split-string"):
                return _env_split(cmd, operand, args)
        elif value.startswith(("--unset=", "--chdir=", "--split-string=")) or (
            value.startswith(("-u", "-C", "-S")) and len(value) > 2 and not value.startswith("--")
        ):
            args.pop(0)
            key, attached = (
                value.split("=", 1) if value.startswith("--") else (value[:2], value[2:])
            )
            if key in ("--chdir", "-C"):
                cmd = _in_cwd(cmd, cmd.path(attached))
            elif key in ("--split-string", "-S"):
                return _env_split(cmd, Arg(attached, attached), args)
        elif value == "--":
            args.pop(0)
            break
        elif (
            "=" in value
            and not value.startswith("=")
            and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", value)
        ):
            name, _, assigned = value.partition("=")
            env[name] = assigned
            args.pop(0)
        else:
            break
    cmd.env = env
    return _peel(cmd, args)


def _env_split(cmd: Cmd, text: Arg, rest: list[Arg]) -> Stream | None:
    if text.value is None:
        cmd.opaque("env")
        return UNKNOWN_OUTPUT
    full = " ".join(
        [text.value, *(shlex.quote(a.value) if a.value is not None else UNKNOWN_WORD for a in rest)]
    )
    return cmd.engine.run_text(cmd, "env " + full, stdin=cmd.stdin, program="env")


def _simple_wrapper(short_values: str = "", long_values: frozenset[str] = frozenset()) -> Handler:
    def handler(cmd: Cmd) -> Stream | None:
        _, operands = split_options(
            cmd.args, short_values=short_values, long_values=long_values, stop_at_operand=True
        )
        return _peel(cmd, operands)

    return handler


def _time(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="fo", stop_at_operand=True)
    for value in option_values(options, "-o", "--output"):
        cmd.write(value)
    return _peel(cmd, operands)


def _nice(cmd: Cmd) -> Stream | None:
    args = [a for a in cmd.args if not re.fullmatch(r"-\d+", a.value or "")]
    _, operands = split_options(
        args, short_values="n", long_values=frozenset({"--adjustment"}), stop_at_operand=True
    )
    return _peel(cmd, operands)


def _timeout(cmd: Cmd) -> Stream | None:
    _, operands = split_options(
        cmd.args,
        short_values="sk",
        long_values=frozenset({"--signal", "--kill-after"}),
        stop_at_operand=True,
    )
    return _peel(cmd, operands[1:])  # the first operand is the duration


def _ionice(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="cnpPu", stop_at_operand=True)
    if has_option(options, "-p", "-P", "-u"):
        return None
    return _peel(cmd, operands)


def _taskset(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="", stop_at_operand=True)
    if has_option(options, "-p", "--pid"):
        return None
    return _peel(cmd, operands[1:])


def _chrt(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="T", stop_at_operand=True)
    if has_option(options, "-p", "--pid"):
        return None
    return _peel(cmd, operands[1:])


def _one_operand_then_command(cmd: Cmd) -> Stream | None:
    """`chroot DIR cmd`, `sg GROUP cmd`, `flock FILE cmd` (with `-c CMD` forms)."""
    options, operands = split_options(
        cmd.args, short_values="cwEgGu" if cmd.name != "chroot" else "", stop_at_operand=True
    )
    texts = option_values(options, "-c", "--command")
    if texts:
        return cmd.engine.run_text(cmd, texts[-1].value, stdin=cmd.stdin, program=cmd.name)
    return _peel(cmd, operands[1:])


def _su(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="cgGsuw",
        long_values=frozenset({"--command", "--shell", "--group", "--user"}),
    )
    texts = option_values(options, "-c", "--command")
    if texts:
        return cmd.engine.run_text(cmd, texts[-1].value, stdin=cmd.stdin, program=cmd.name)
    if cmd.name == "runuser" and operands and has_option(options, "-u", "--user"):
        return _peel(cmd, operands)
    return _feed_stdin(cmd, "shell")


def _strace(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="abeEIoOpPsSuUX", stop_at_operand=True)
    for value in option_values(options, "-o", "--output"):
        cmd.write(value)
    return _peel(cmd, operands)


def _long_option_wrapper(cmd: Cmd) -> Stream | None:
    """Wrappers whose own options are `--x=y` or bare flags (`firejail`, `valgrind`)."""
    return _peel(
        cmd,
        _skip_options(cmd.args, frozenset({"-f", "-t", "-S", "-G", "-w", "-r", "-n", "-s", "-e"})),
    )


def _busybox(cmd: Cmd) -> Stream | None:
    args = cmd.args
    if args and args[0].value and args[0].value.startswith("--"):
        args = args[1:]
    return _peel(cmd, args)


def _command(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    while args and args[0].value in ("-p", "--"):
        args.pop(0)
    if args and args[0].value in ("-v", "-V"):
        return Stream(unknown=True)  # a lookup, nothing runs
    return _peel(cmd, args)


def _exec(cmd: Cmd) -> Stream | None:
    return _peel(cmd, _skip_options(cmd.args, frozenset({"-a"})))


def _watch(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="nqs", long_values=frozenset({"--interval"}), stop_at_operand=True
    )
    if has_option(options, "-x", "--exec"):
        return _peel(cmd, operands)
    return _run_words_as_text(cmd, operands, "watch")


def _run_words_as_text(cmd: Cmd, words: list[Arg], program: str) -> Stream | None:
    if not words:
        return None
    if any(w.value is None for w in words[:1]):
        cmd.opaque(program)
        return UNKNOWN_OUTPUT
    text = " ".join(w.value if w.value is not None else UNKNOWN_WORD for w in words)
    return cmd.engine.run_text(cmd, text, stdin=cmd.stdin, program=program)


def _script(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="cEOIBT", long_values=frozenset({"--command"})
    )
    for arg in operands[:1]:
        cmd.write(arg)
    texts = option_values(options, "-c", "--command")
    if texts:
        return cmd.engine.run_text(cmd, texts[-1].value, program="script")
    return None


# --- fan-out: xargs, find, parallel --------------------------------------------------------


def _stdin_items(cmd: Cmd, *, null: bool = False, delimiter: str | None = None) -> list[str | None]:
    stdin = cmd.stdin
    if stdin.names is not None:
        return list(stdin.names) or [None]
    if stdin.text is not None:
        text = stdin.text
        if null:
            items: list[str] = [t for t in text.split("\0") if t]
        elif delimiter is not None:
            items = [t for t in text.split(delimiter) if t]
        else:
            try:
                items = shlex.split(text)
            except ValueError:
                items = text.split()
        return list(items) if 0 < len(items) <= MAX_FAN_OUT else [None]
    return [None]


def _substitute(args: list[Arg], token: str, item: str | None) -> list[Arg]:
    out: list[Arg] = []
    for arg in args:
        if arg.value is not None and token in arg.value:
            out.append(Arg(arg.value.replace(token, item) if item is not None else None, arg.raw))
        else:
            out.append(arg)
    return out


def _xargs(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    replace_token: str | None = None
    cleaned: list[Arg] = []
    for index, arg in enumerate(args):
        value = arg.value or ""
        if value == "-i" or value.startswith("--replace"):
            replace_token = value.partition("=")[2] or "{}"
            continue
        if value.startswith("-i") and len(value) > 2 and not cleaned[index:]:
            replace_token = value[2:]
            continue
        cleaned.append(arg)
    options, operands = split_options(
        cleaned,
        short_values="adEILlnPs",
        long_values=frozenset(
            {"--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines"}
        ),
        stop_at_operand=True,
    )
    for token in option_values(options, "-I"):
        replace_token = token.value
    files = option_values(options, "-a", "--arg-file")
    for arg_file in files:
        cmd.read(arg_file)
    delimiters = option_values(options, "-d", "--delimiter")
    items: list[str | None] = (
        [None]
        if files
        else _stdin_items(
            cmd,
            null=has_option(options, "-0", "--null"),
            delimiter=delimiters[-1].value if delimiters else None,
        )
    )
    target = operands or [Arg("echo", "echo")]
    if replace_token:
        for item in items:
            cmd.engine.run_argv(cmd, _substitute(target, replace_token, item), NO_INPUT)
    else:
        cmd.engine.run_argv(cmd, [*target, *(Arg(i, i or "<stdin>") for i in items)], NO_INPUT)
    return UNKNOWN_OUTPUT


_FIND_VALUE_TESTS = frozenset(
    [
        "-maxdepth",
        "-mindepth",
        "-type",
        "-xtype",
        "-user",
        "-group",
        "-perm",
        "-size",
        "-mtime",
        "-atime",
        "-ctime",
        "-mmin",
        "-amin",
        "-cmin",
        "-newer",
        "-anewer",
        "-cnewer",
        "-uid",
        "-gid",
        "-links",
        "-inum",
        "-samefile",
        "-used",
        "-printf",
        "-fstype",
        "-context",
        "-newermt",
        "-newerct",
        "-newerat",
        "-D",
        "-O",
        "-files0-from",
    ]
)
_FIND_PATTERNS = frozenset(
    {
        "-name",
        "-iname",
        "-path",
        "-ipath",
        "-wholename",
        "-iwholename",
        "-regex",
        "-iregex",
        "-lname",
        "-ilname",
    }
)


def _find(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    while args and args[0].value in ("-H", "-L", "-P"):
        args.pop(0)
    roots: list[Arg] = []
    while args and not (
        (args[0].value or "x")[:1] in ("-", "(", "!", ")") and args[0].value not in ("-",)
    ):
        roots.append(args.pop(0))
    roots = roots or [Arg(".", ".")]
    patterns: list[tuple[str, str | None]] = []
    actions: list[tuple[str, list[Arg]]] = []
    i = 0
    while i < len(args):
        value = args[i].value
        if value in _FIND_PATTERNS and i + 1 < len(args):
            patterns.append((value, args[i + 1].value))
            i += 2
        elif value in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j].value not in (";", "+"):
                j += 1
            actions.append(("exec", args[i + 1 : j]))
            i = j + 1
        elif value == "-delete":
            actions.append(("delete", []))
            i += 1
        elif value in ("-fprint", "-fprint0", "-fls", "-fprintf") and i + 1 < len(args):
            actions.append(("write", [args[i + 1]]))
            i += 3 if value == "-fprintf" else 2
        elif value in _FIND_VALUE_TESTS:
            if value in (
                "-newer",
                "-anewer",
                "-cnewer",
                "-samefile",
                "-files0-from",
            ) and i + 1 < len(args):
                cmd.read(args[i + 1])
            i += 2
        else:
            i += 1
    names: list[str | None] = []
    for root in roots:
        base = cmd.path(root)
        if base is None:
            names.append(None)
            continue
        base = base.rstrip("/") or "/"
        joined = base if base != "/" else ""
        if not patterns:
            names.append(f"{joined}/**")
        for kind, pattern in patterns:
            if pattern is None:
                names.append(None)
            elif kind in ("-regex", "-iregex"):
                names.append(f"{joined}/**")
            elif kind in ("-path", "-ipath", "-wholename", "-iwholename") and pattern.startswith(
                ("/", ".", "~")
            ):
                names.append(cmd.path(pattern))
            else:
                names.append(f"{joined}/**/{pattern.lstrip('/')}")
    names = list(dict.fromkeys(names))
    for action, action_args in actions:
        if action == "delete":
            for name in names:
                cmd.file_effect("delete", name)
        elif action == "write":
            cmd.write(action_args[0])
        else:
            if not action_args:
                continue
            for name in names[:MAX_FAN_OUT]:
                cmd.engine.run_argv(cmd, _substitute(action_args, "{}", name), NO_INPUT)
    return Stream(names=tuple(names), unknown=True)


def _parallel(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    items: list[str | None] = []
    if any(a.value in (":::", "::::", ":::+") for a in args):
        split_at = next(i for i, a in enumerate(args) if a.value in (":::", "::::", ":::+"))
        marker = args[split_at].value
        tail = [a for a in args[split_at + 1 :] if a.value not in (":::", "::::", ":::+")]
        args = args[:split_at]
        if marker == "::::":
            for arg in tail:
                cmd.read(arg)
            items = [None]
        else:
            items = [a.value for a in tail][:MAX_FAN_OUT] or [None]
    else:
        items = _stdin_items(cmd)
    operands = _skip_options(
        args,
        frozenset(
            {
                "-j",
                "--jobs",
                "-S",
                "--sshlogin",
                "-I",
                "-a",
                "--arg-file",
                "-d",
                "--delimiter",
                "--joblog",
                "--results",
                "--tmpdir",
                "--timeout",
            }
        ),
    )
    if not operands:
        return None
    for item in items:
        quoted = shlex.quote(item) if item is not None else UNKNOWN_WORD
        words = [a.value if a.value is not None else UNKNOWN_WORD for a in operands]
        text = " ".join(words)
        text = text.replace("{}", quoted) if "{}" in text else f"{text} {quoted}"
        cmd.engine.run_text(cmd, text, program="parallel")
    return UNKNOWN_OUTPUT


# --- shells and interpreters -------------------------------------------------------------


def _feed_stdin(cmd: Cmd, language: str) -> Stream | None:
    """An interpreter reading its program from standard input."""
    stdin = cmd.stdin
    if stdin.text is not None:
        if language == "shell":
            return cmd.engine.run_text(cmd, stdin.text, program=cmd.name, decoder=stdin.decoder)
        cmd.engine.run_code(cmd, language, stdin.text, decoder=stdin.decoder)
        return UNKNOWN_OUTPUT
    if stdin.opaque:
        cmd.opaque(cmd.name)
        return UNKNOWN_OUTPUT
    return None


def _shell(cmd: Cmd) -> Stream | None:
    args = cmd.args
    i = 0
    command_mode = False
    from_stdin = False
    while i < len(args):
        value = args[i].value
        if value is None:
            break
        if value == "--" or value == "-":
            i += 1
            break
        if value in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if value.startswith("--"):
            i += 1
            continue
        if value[:1] in "-+" and len(value) > 1:
            command_mode = command_mode or "c" in value[1:]
            from_stdin = from_stdin or "s" in value[1:]
            i += 1
            continue
        break
    operands = args[i:]
    if command_mode:
        text = operands[0].value if operands else None
        return cmd.engine.run_text(cmd, text, stdin=cmd.stdin, program=cmd.name)
    if operands and not from_stdin:
        cmd.read(operands[0])  # a script file: its content is not read here
        return None
    return _feed_stdin(cmd, "shell")


def _python(cmd: Cmd) -> Stream | None:
    args = cmd.args
    i = 0
    while i < len(args):
        value = args[i].value
        if value is None:
            cmd.read(None)
            return None
        if value == "-":
            return _feed_stdin(cmd, "python")
        if value in ("-W", "-X", "--check-hash-based-pycs"):
            i += 2
            continue
        if value.startswith("-") and not value.startswith("--"):
            letters = value[1:]
            if "c" in letters:
                rest = letters[letters.index("c") + 1 :]
                code = Arg(rest, rest) if rest else (args[i + 1] if i + 1 < len(args) else None)
                cmd.engine.run_code(cmd, "python", code.value if code else None)
                return UNKNOWN_OUTPUT
            if "m" in letters:
                rest = letters[letters.index("m") + 1 :]
                module = rest or (args[i + 1].value if i + 1 < len(args) else None)
                module_args = args[i + (1 if rest else 2) :]
                return _python_module(cmd, module, module_args)
            i += 1
            continue
        if value.startswith("--"):
            i += 1
            continue
        cmd.read(args[i])  # a script
        return None
    return _feed_stdin(cmd, "python")


def _python_module(cmd: Cmd, module: str | None, args: list[Arg]) -> Stream | None:
    if module is None:
        cmd.opaque(cmd.name)
        return UNKNOWN_OUTPUT
    handler = {
        "pip": "pip",
        "base64": "base64",
        "json.tool": "cat",
        "gzip": "gzip",
        "tarfile": None,
        "zipfile": None,
    }.get(module)
    if handler:
        from ._shell_commands import HANDLERS

        sub = Cmd(
            cmd.engine, cmd.scope, handler, args, cmd.stdin, cmd.via, cmd.env, cmd.sink, cmd.reads
        )
        return HANDLERS[handler](sub)
    return None


def _code_interpreter(
    language: str, code_flags: tuple[str, ...], in_place_flag: str | None = None
) -> Handler:
    """Perl / ruby / node / php / lua: inline code flags, else a script, else stdin."""

    def handler(cmd: Cmd) -> Stream | None:
        codes: list[str | None] = []
        in_place = False
        operands: list[Arg] = []
        args = cmd.args
        i = 0
        while i < len(args):
            value = args[i].value
            if value is None or not value.startswith("-") or value == "-":
                operands = list(args[i:])
                break
            if value == "--":
                operands = list(args[i + 1 :])
                break
            if value.startswith("--"):
                name, eq, rest = value.partition("=")
                if name in code_flags:
                    codes.append(rest if eq else (args[i + 1].value if i + 1 < len(args) else None))
                    i += 1 if eq else 2
                    continue
                i += 1
                continue
            letters = value[1:]
            consumed_next = False
            for index, letter in enumerate(letters):
                if "-" + letter in code_flags:
                    rest = letters[index + 1 :]
                    if rest:
                        codes.append(rest)
                    else:
                        codes.append(args[i + 1].value if i + 1 < len(args) else None)
                        consumed_next = True
                    break
                if in_place_flag and letter == in_place_flag:
                    in_place = True
                    if letters[index + 1 : index + 2] == ".":
                        break
                    continue
                if letter in "IMmFxdCr" and language in ("perl", "ruby", "node"):
                    if letter == "r" and language == "node" and not letters[index + 1 :]:
                        consumed_next = True
                    break
            i += 2 if consumed_next else 1
        else:
            operands = []
        if codes:
            for code in codes:
                cmd.engine.run_code(cmd, language, code)
            for arg in operands:
                if arg.value == "-":
                    continue
                cmd.read(arg)
                if in_place:
                    cmd.write(arg)
            return UNKNOWN_OUTPUT
        if operands and operands[0].value != "-":
            cmd.read(operands[0])
            return None
        return _feed_stdin(cmd, language)

    return handler


def _deno(cmd: Cmd) -> Stream | None:
    if cmd.args and cmd.args[0].value == "eval":
        code = cmd.args[1].value if len(cmd.args) > 1 else None
        cmd.engine.run_code(cmd, "node", code)
        return UNKNOWN_OUTPUT
    if len(cmd.args) > 1 and cmd.args[0].value == "run":
        cmd.read(_skip_options(cmd.args[1:])[0] if _skip_options(cmd.args[1:]) else None)
    return None


def run_code(cmd: Cmd, language: str, code: str | None, *, decoder: str | None = None) -> None:
    """Analyse inline code for `language` (`python`, `perl`, `ruby`, `node`, `php`, `lua`)."""
    if code is None:
        cmd.opaque(cmd.name)
        return
    if decoder is not None:
        scope = cmd.scope.copy()
        scope.decoder = decoder
        cmd = Cmd(
            cmd.engine, scope, cmd.name, cmd.args, cmd.stdin, cmd.via, cmd.env, cmd.sink, cmd.reads
        )
    if language == "python":
        from ._python_code import python_effects

        python_effects(code, _CodeSink(cmd))
    else:
        from ._script_code import script_effects

        script_effects(cmd, language, code)


class _CodeSink:
    """Lets the Python analyser emit effects and hand back shell text or SQL."""

    def __init__(self, cmd: Cmd) -> None:
        self.cmd = cmd

    def path(self, value: str | None) -> str | None:
        return self.cmd.path(value)

    def emit(self, kind: str, *, via: str, **fields: object) -> None:
        self.cmd.emit(kind, via=via, **fields)  # type: ignore[arg-type]

    def shell(self, text: str | None, *, via: str, decoder: str | None) -> None:
        sub = Cmd(
            self.cmd.engine, self.cmd.scope, self.cmd.name, [], NO_INPUT, via, {}, self.cmd.sink
        )
        self.cmd.engine.run_text(sub, text, program=self.cmd.name, decoder=decoder)

    def code(self, code: str | None, *, via: str, decoder: str | None) -> None:
        sub = Cmd(
            self.cmd.engine, self.cmd.scope, self.cmd.name, [], NO_INPUT, via, {}, self.cmd.sink
        )
        run_code(sub, "python", code, decoder=decoder)

    def sql(self, text: str | None, *, database: str | None, via: str) -> None:
        sub = Cmd(
            self.cmd.engine, self.cmd.scope, self.cmd.name, [], NO_INPUT, via, {}, self.cmd.sink
        )
        db = database if database in (None, ":memory:", "") else self.cmd.path(database)
        self.cmd.engine.run_sql(sub, text, database=db, dialect=None)


# --- builtins that change shell state ----------------------------------------------------


def _cd(cmd: Cmd) -> Stream | None:
    operands = [a for a in cmd.args if a.value not in ("-L", "-P", "-e", "-@")]
    scope = cmd.scope
    if cmd.name == "popd":
        stack = scope.variables.get("\x00dirstack")
        dirs = stack.split("\x00") if stack else []
        scope.cwd = dirs.pop() if dirs and dirs[-1] else None
        scope.variables["\x00dirstack"] = "\x00".join(dirs)
        return None
    if cmd.name == "pushd" and scope.cwd is not None:
        stack = scope.variables.get("\x00dirstack") or ""
        scope.variables["\x00dirstack"] = (stack + "\x00" if stack else "") + scope.cwd
    if not operands:
        scope.cwd = scope.home
    elif operands[0].value in ("-",) or (operands[0].value or "").startswith("+"):
        scope.cwd = None
    else:
        scope.cwd = scope.resolve(operands[0].value)
    return None


def _declare(cmd: Cmd) -> Stream | None:
    if any(a.value in ("-f", "-F") for a in cmd.args):
        return None
    for arg in cmd.args:
        if arg.value is not None and arg.value[:1] in "-+":
            continue
        text = arg.value if arg.value is not None else arg.raw
        name, eq, value = text.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            continue
        if eq:
            cmd.scope.variables[name] = value if arg.value is not None else None
    return None


def _unset(cmd: Cmd) -> Stream | None:
    functions = any(a.value == "-f" for a in cmd.args)
    for arg in cmd.args:
        if arg.value is None or arg.value.startswith("-"):
            continue
        if functions:
            cmd.scope.functions.pop(arg.value, None)
        else:
            cmd.scope.variables.pop(arg.value, None)
    return None


def _read(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="adinNptu")
    for arg in operands:
        if arg.value is not None:
            cmd.scope.variables[arg.value] = None
    return None


def _alias(cmd: Cmd) -> Stream | None:
    for arg in cmd.args:
        if arg.value is None or "=" not in arg.value:
            continue
        name, _, value = arg.value.partition("=")
        cmd.scope.aliases[name] = value
    return None


def _unalias(cmd: Cmd) -> Stream | None:
    for arg in cmd.args:
        if arg.value is not None:
            cmd.scope.aliases.pop(arg.value, None)
    return None


def _eval(cmd: Cmd) -> Stream | None:
    if not cmd.args:
        return None
    if any(a.value is None for a in cmd.args):
        cmd.opaque("eval")
        return UNKNOWN_OUTPUT
    text = " ".join(a.value for a in cmd.args if a.value is not None)
    return cmd.engine.run_text(cmd, text, stdin=cmd.stdin, program="eval", scope=cmd.scope)


def _trap(cmd: Cmd) -> Stream | None:
    args = [a for a in cmd.args if a.value != "--"]
    if not args or args[0].value in ("-p", "-l", "-", ""):
        return None
    if len(args) == 1 and args[0].value is not None and args[0].value.isdigit():
        return None
    cmd.engine.run_text(cmd, args[0].value, program="trap")
    return None


# --- text producers and decoders ---------------------------------------------------------


def _echo(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    newline = True
    escapes = False
    while args and args[0].value and re.fullmatch(r"-[neE]+", args[0].value):
        flags = args.pop(0).value or ""
        newline = newline and "n" not in flags
        escapes = (escapes or "e" in flags) and "E" not in flags
    if any(a.value is None for a in args):
        return UNKNOWN_OUTPUT
    text = " ".join(a.value for a in args if a.value is not None)
    decoder = None
    if escapes:
        decoded, stop = echo_escapes(text)
        decoder = "echo -e" if decoded != text else None
        text = decoded
        newline = newline and not stop
    return Stream(text=text + ("\n" if newline else ""), decoder=decoder)


def _printf(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    variable: str | None = None
    if len(args) >= 2 and args[0].value == "-v":
        variable = args[1].value
        args = args[2:]
    if args and args[0].value == "--":
        args = args[1:]
    if not args:
        return None
    values = [a.value for a in args]
    text = None
    if all(v is not None for v in values):
        text = printf_format(values[0] or "", [v for v in values[1:] if v is not None])
    if variable is not None:
        cmd.scope.variables[variable] = text
        return None
    if text is None:
        return UNKNOWN_OUTPUT
    decoder = "printf" if "\\" in "".join(v for v in values if v is not None) else None
    return Stream(text=text, decoder=decoder)


def _base64(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="w", long_values=frozenset({"--wrap"}))
    decode = has_option(options, "-d", "--decode", "-D")
    if cmd.name == "basenc" and not has_option(options, "--base64", "--base64url"):
        return _stream_from_files(cmd, operands)
    files = [a for a in operands if a.value != "-"]
    if files:
        return _stream_from_files(cmd, files)
    stdin = cmd.stdin
    if stdin.text is None:
        return Stream(sources=stdin.sources, hosts=stdin.hosts, unknown=True)
    if decode:
        decoded = b64decode_text(stdin.text)
        return Stream(text=decoded, decoder="base64") if decoded is not None else UNKNOWN_OUTPUT
    return Stream(text=base64.b64encode(stdin.text.encode()).decode() + "\n")


def _stream_from_files(cmd: Cmd, files: list[Arg]) -> Stream:
    for arg in files:
        cmd.read(arg)
    return Stream(sources=tuple(cmd.reads), unknown=True)


def _xxd(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args, short_values="cgloOsn", long_values=frozenset())
    if len(operands) > 1:
        source = cmd.read(operands[0])
        dest = cmd.write(operands[1])
        cmd.copy(source, dest)
        return Stream(text="")
    if operands:
        return _stream_from_files(cmd, operands)
    stdin = cmd.stdin
    if has_option(options, "-r", "--revert") and stdin.text is not None:
        decoded = (
            hexdecode_text(stdin.text) if has_option(options, "-p", "--ps", "--plain") else None
        )
        return Stream(text=decoded, decoder="hex") if decoded is not None else UNKNOWN_OUTPUT
    return Stream(sources=stdin.sources, hosts=stdin.hosts, unknown=True)


def _openssl(cmd: Cmd) -> Stream | None:
    args = cmd.args
    if not args:
        return None
    verb = args[0].value
    rest = args[1:]
    values = [a.value for a in rest]
    for flag, action in (
        ("-in", "read"),
        ("-out", "write"),
        ("-inkey", "read"),
        ("-signkey", "read"),
    ):
        for index, value in enumerate(values):
            if value == flag and index + 1 < len(rest):
                cmd.file_effect(action, rest[index + 1])  # type: ignore[arg-type]
    if verb in ("s_client",) and "-connect" in values:
        target = (
            values[values.index("-connect") + 1]
            if values.index("-connect") + 1 < len(values)
            else None
        )
        cmd.network(target.rsplit(":", 1)[0] if target else None)
        return Stream(hosts=(None,), unknown=True)
    base64_mode = verb == "base64" or (
        verb == "enc" and any(v in ("-a", "-base64", "-A") for v in values)
    )
    if base64_mode and "-d" in values and "-in" not in values and cmd.stdin.text is not None:
        only_base64 = not any(
            v and v.startswith("-") and v not in ("-a", "-base64", "-A", "-d") for v in values
        )
        if only_base64:
            decoded = b64decode_text(cmd.stdin.text)
            return Stream(text=decoded, decoder="base64") if decoded is not None else UNKNOWN_OUTPUT
    return Stream(
        sources=tuple([*cmd.reads, *cmd.stdin.sources]), hosts=cmd.stdin.hosts, unknown=True
    )


def _rev(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args)
    if operands:
        return _stream_from_files(cmd, operands)
    if cmd.stdin.text is not None:
        text = cmd.stdin.text
        body = text[:-1] if text.endswith("\n") else text
        return Stream(
            text=reverse_lines(body) + ("\n" if text.endswith("\n") else ""), decoder="rev"
        )
    return None


def _tr(cmd: Cmd) -> Stream | None:
    options, operands = split_options(cmd.args)
    if cmd.stdin.text is None or not operands or any(a.value is None for a in operands):
        return None
    delete = has_option(options, "-d", "--delete")
    if has_option(options, "-c", "-C", "--complement", "-s", "--squeeze-repeats"):
        return UNKNOWN_OUTPUT
    second = operands[1].value if len(operands) > 1 else None
    text = tr_translate(cmd.stdin.text, operands[0].value or "", second, delete=delete)
    return Stream(text=text, decoder="tr") if text is not None else UNKNOWN_OUTPUT


def _pwd(cmd: Cmd) -> Stream | None:
    return Stream(text=cmd.scope.cwd + "\n") if cmd.scope.cwd else UNKNOWN_OUTPUT


def _path_text(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="s")
    if not operands or operands[0].value is None:
        return UNKNOWN_OUTPUT
    value = operands[0].value
    if cmd.name == "basename":
        text = posixpath.basename(value.rstrip("/"))
        if len(operands) > 1 and operands[1].value and text.endswith(operands[1].value):
            text = text[: -len(operands[1].value)]
    elif cmd.name == "dirname":
        text = posixpath.dirname(value.rstrip("/")) or "."
    else:  # realpath / readlink -f, without symlinks
        resolved = cmd.path(value)
        if resolved is None:
            return UNKNOWN_OUTPUT
        text = resolved
    return Stream(text=text + "\n")


def _mktemp(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args, short_values="pt", long_values=frozenset({"--tmpdir", "--suffix"})
    )
    directories = option_values(options, "-p", "--tmpdir")
    base = directories[-1].value if directories and directories[-1].value else "/tmp"
    name = operands[0].value if operands and operands[0].value else "tmp.XXXXXXXXXX"
    path = name if name.startswith("/") else posixpath.join(base, name)
    return Stream(text=path + "\n")


# --- process control ---------------------------------------------------------------------

_SIGNAL = re.compile(r"^-(?:\d+|[A-Z][A-Z0-9+-]*)$")


def _kill(cmd: Cmd) -> Stream | None:
    args = list(cmd.args)
    signal_seen = False
    targets: list[Arg] = []
    i = 0
    while i < len(args):
        value = args[i].value
        if value == "--":
            targets.extend(args[i + 1 :])
            break
        if value in ("-l", "-L", "--list", "--table"):
            return None
        if value in ("-s", "-n", "--signal") and not signal_seen:
            signal_seen = True
            i += 2
            continue
        if value is not None and value.startswith("-") and not signal_seen and len(value) > 1:
            signal_seen = True
            i += 1
            continue
        targets.append(args[i])
        i += 1
    for arg in targets:
        # `$$` and `$BASHPID` are the shell itself: a process it may always signal.
        own = arg.text in _OWN_PID
        cmd.emit("kill", target="<self>" if own else arg.text)
    return None


_OWN_PID = frozenset({"$$", "${$}", '"$$"', "$BASHPID", "${BASHPID}", '"$BASHPID"'})


def _pkill(cmd: Cmd) -> Stream | None:
    args = [a for a in cmd.args if not _SIGNAL.match(a.value or "")]
    options, operands = split_options(
        args,
        short_values="gGPstuUFN",
        long_values=frozenset(
            {
                "--signal",
                "--pidfile",
                "--ns",
                "--nslist",
                "--group",
                "--parent",
                "--session",
                "--terminal",
                "--euid",
                "--uid",
            }
        ),
    )
    for value in option_values(options, "-F", "--pidfile"):
        cmd.read(value)
        cmd.emit("kill", target=value.text)
    if cmd.name == "pkill":
        for arg in operands[:1]:
            cmd.emit("kill", target=arg.text)
    return None


def _killall(cmd: Cmd) -> Stream | None:
    args = [a for a in cmd.args if not _SIGNAL.match(a.value or "")]
    _, operands = split_options(
        args,
        short_values="sSuoyZn",
        long_values=frozenset(
            {"--signal", "--user", "--older-than", "--younger-than", "--context"}
        ),
    )
    for arg in operands:
        cmd.emit("kill", target=arg.text)
    return None


_STOP_VERBS = frozenset(
    {
        "stop",
        "kill",
        "disable",
        "mask",
        "restart",
        "try-restart",
        "reload-or-restart",
        "try-reload-or-restart",
        "freeze",
        "clean",
    }
)
_POWER_VERBS = frozenset(
    {
        "poweroff",
        "reboot",
        "halt",
        "suspend",
        "hibernate",
        "hybrid-sleep",
        "kexec",
        "soft-reboot",
        "emergency",
        "rescue",
    }
)


def _systemctl(cmd: Cmd) -> Stream | None:
    _, operands = split_options(
        cmd.args,
        short_values="tpsHMnoP",
        long_values=frozenset(
            {
                "--type",
                "--property",
                "--signal",
                "--host",
                "--machine",
                "--lines",
                "--output",
                "--state",
                "--kill-whom",
                "--root",
            }
        ),
    )
    if not operands or operands[0].value is None:
        return None
    verb = operands[0].value
    if verb in _STOP_VERBS:
        for arg in operands[1:]:
            cmd.emit("kill", target=arg.text)
    elif verb in _POWER_VERBS:
        cmd.emit("exec", program=verb)
    return None


def _service_style(verb_first: bool, stop_verbs: frozenset[str]) -> Handler:
    """`service NAME stop` (name first) or `supervisorctl stop NAME` (verb first)."""

    def handler(cmd: Cmd) -> Stream | None:
        _, operands = split_options(
            cmd.args,
            short_values="cspuSt",
            long_values=frozenset({"--configuration", "--serverurl"}),
        )
        if len(operands) < 2:
            return None
        if verb_first:
            verb, names = operands[0].value, operands[1:]
        else:
            verb, names = operands[1].value, operands[:1]
        if verb in stop_verbs:
            for arg in names:
                cmd.emit("kill", target=arg.text)
        return None

    return handler


def _docker(cmd: Cmd) -> Stream | None:
    _, operands = split_options(
        cmd.args,
        short_values="sftH",
        long_values=frozenset({"--signal", "--time", "--host", "--context"}),
    )
    if not operands:
        return None
    verb = operands[0].value
    names = operands[1:]
    if verb == "container" and names:
        verb, names = names[0].value, names[1:]
    if verb in ("stop", "kill", "rm", "restart", "pause"):
        for arg in names:
            cmd.emit("kill", target=arg.text)
    return None


def _tmux(cmd: Cmd) -> Stream | None:
    values = [a.value for a in cmd.args]
    if "kill-server" in values:
        cmd.emit("kill", target="tmux")
    for verb in ("kill-session", "kill-window", "kill-pane"):
        if verb in values:
            index = values.index("-t") if "-t" in values else -1
            cmd.emit(
                "kill", target=cmd.args[index + 1].text if 0 <= index < len(values) - 1 else "tmux"
            )
    return None


def _screen(cmd: Cmd) -> Stream | None:
    values = [a.value for a in cmd.args]
    if "-X" in values and "quit" in values:
        index = values.index("-S") if "-S" in values else -1
        cmd.emit(
            "kill", target=cmd.args[index + 1].text if 0 <= index < len(values) - 1 else "screen"
        )
    return None


def _init(cmd: Cmd) -> Stream | None:
    level = cmd.args[0].value if cmd.args else None
    if level == "0":
        cmd.emit("exec", program="poweroff")
    elif level == "6":
        cmd.emit("exec", program="reboot")
    return None


def _at(cmd: Cmd) -> Stream | None:
    options, _ = split_options(cmd.args, short_values="fqtM")
    files = option_values(options, "-f")
    for value in files:
        cmd.read(value)
    if not files:
        _feed_stdin(cmd, "shell")
    return None


def _crontab(cmd: Cmd) -> Stream | None:
    _, operands = split_options(cmd.args, short_values="uc")
    for arg in operands:
        if arg.value != "-":
            cmd.read(arg)
    return None


# --- SQL clients ---------------------------------------------------------------------------

_SQLITE_VALUE_OPTIONS = frozenset(
    {
        "-cmd",
        "-init",
        "-separator",
        "-newline",
        "-nullvalue",
        "-mmap",
        "-lookaside",
        "-pagecache",
        "-heap",
        "-vfs",
        "-maxsize",
        "-escape",
        "-c",
        "-s",
    }
)


def _sqlite(cmd: Cmd) -> Stream | None:
    args = cmd.args
    texts: list[str | None] = []
    operands: list[Arg] = []
    i = 0
    while i < len(args):
        value = args[i].value
        if value is not None and value.startswith("-") and len(value) > 1 and not operands:
            if value.lstrip("-") in {o.lstrip("-") for o in _SQLITE_VALUE_OPTIONS} and i + 1 < len(
                args
            ):
                name = value.lstrip("-")
                if name in ("cmd", "c", "s"):
                    texts.append(args[i + 1].value)
                elif name == "init":
                    cmd.read(args[i + 1])
                    texts.append(None)
                i += 2
                continue
            i += 1
            continue
        operands.append(args[i])
        i += 1
    database_arg = operands[0] if operands else None
    if database_arg is None or database_arg.value in (":memory:", ""):
        database: str | None = ":memory:"
    else:
        database = cmd.path(database_arg)
    texts.extend(a.value for a in operands[1:])
    dialect = "duckdb" if cmd.name == "duckdb" else "sqlite"
    if not texts:
        if cmd.stdin.text is not None:
            texts.append(cmd.stdin.text)
        elif cmd.stdin.piped:
            texts.append(None)
    for text in texts:
        _sqlite_text(cmd, text, database, dialect)
    return None


def _sqlite_text(cmd: Cmd, text: str | None, database: str | None, dialect: str) -> None:
    if text is None:
        cmd.engine.run_sql(cmd, None, database=database, dialect=dialect)
        return
    sql_lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped.startswith("."):
            sql_lines.append(line)
            continue
        parts = stripped.split(None, 1)
        verb, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        words = rest.split()
        if verb == ".read" and words:
            cmd.read(words[0])
            cmd.engine.run_sql(cmd, None, database=database, dialect=dialect)
        elif verb in (".output", ".once", ".save", ".backup", ".excel") and words:
            cmd.write(words[-1])
        elif verb == ".import" and words:
            cmd.read(words[0])
            cmd.engine.run_sql(cmd, None, database=database, dialect=dialect)
        elif verb == ".restore":
            cmd.file_effect("write", database if database != ":memory:" else None)
        elif verb in (".shell", ".system"):
            cmd.engine.run_text(cmd, rest, program=cmd.name)
    sql = "\n".join(sql_lines).strip()
    if sql:
        cmd.engine.run_sql(cmd, sql, database=database, dialect=dialect)


def _psql(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="cdfhpUvFPRTLo",
        long_values=frozenset(
            {
                "--command",
                "--dbname",
                "--file",
                "--host",
                "--port",
                "--username",
                "--variable",
                "--set",
                "--output",
                "--log-file",
            }
        ),
    )
    names = option_values(options, "-d", "--dbname")
    database = (
        names[-1].value if names else (operands[0].value if operands else cmd.lookup("PGDATABASE"))
    )
    for value in option_values(options, "-h", "--host"):
        if value.value not in ("localhost", "127.0.0.1", "::1") and not (
            value.value or ""
        ).startswith("/"):
            cmd.network(value.value)
    for value in option_values(options, "-o", "--output", "-L", "--log-file"):
        cmd.write(value)
    if has_option(options, "-l", "--list"):
        return None
    texts: list[str | None] = [v.value for v in option_values(options, "-c", "--command")]
    for value in option_values(options, "-f", "--file"):
        if value.value != "-":
            cmd.read(value)
        texts.append(None)
    if not texts and cmd.stdin.text is not None:
        texts.append(cmd.stdin.text)
    elif not texts and cmd.stdin.piped:
        texts.append(None)
    for text in texts:
        cmd.engine.run_sql(cmd, text, database=database, dialect="postgres")
    return None


def _mysql(cmd: Cmd) -> Stream | None:
    options, operands = split_options(
        cmd.args,
        short_values="eDhuPS",
        long_values=frozenset(
            {"--execute", "--database", "--host", "--user", "--port", "--socket"}
        ),
    )
    names = option_values(options, "-D", "--database")
    database = names[-1].value if names else (operands[0].value if operands else None)
    for value in option_values(options, "-h", "--host"):
        if value.value not in ("localhost", "127.0.0.1", "::1"):
            cmd.network(value.value)
    texts: list[str | None] = [v.value for v in option_values(options, "-e", "--execute")]
    if not texts and cmd.stdin.text is not None:
        texts.append(cmd.stdin.text)
    elif not texts and cmd.stdin.piped:
        texts.append(None)
    for text in texts:
        cmd.engine.run_sql(cmd, text, database=database, dialect="mysql")
    return None


def _dropdb(cmd: Cmd) -> Stream | None:
    _, operands = split_options(
        cmd.args,
        short_values="hpUd",
        long_values=frozenset({"--host", "--port", "--username", "--maintenance-db"}),
    )
    if cmd.name == "mysqladmin":
        values = [a.value for a in operands]
        if "drop" not in values or values.index("drop") + 1 >= len(values):
            return None
        target = operands[values.index("drop") + 1].value
        dialect = "mysql"
    else:
        if not operands:
            return None
        target = operands[-1].value
        dialect = "postgres"
    text = f"DROP DATABASE {target}" if target is not None else None
    cmd.engine.run_sql(cmd, text, database=target, dialect=dialect)
    return None


def _noop(cmd: Cmd) -> Stream | None:
    return Stream(text="")


EXEC_HANDLERS: dict[str, Handler] = {
    "sudo": _sudo,
    "sudoedit": _sudo,
    "doas": _simple_wrapper("uC"),
    "env": _env,
    "nohup": _simple_wrapper(),
    "time": _time,
    "nice": _nice,
    "renice": lambda cmd: None,
    "ionice": _ionice,
    "stdbuf": _simple_wrapper("ioe", frozenset({"--input", "--output", "--error"})),
    "timeout": _timeout,
    "gtimeout": _timeout,
    "taskset": _taskset,
    "chrt": _chrt,
    "setsid": _simple_wrapper(),
    "unbuffer": _simple_wrapper(),
    "caffeinate": _simple_wrapper("tw"),
    "xvfb-run": _simple_wrapper("nsfe"),
    "proxychains": _simple_wrapper("f"),
    "proxychains4": _simple_wrapper("f"),
    "torsocks": _simple_wrapper("uapP"),
    "firejail": _long_option_wrapper,
    "valgrind": _long_option_wrapper,
    "nsenter": _long_option_wrapper,
    "unshare": _long_option_wrapper,
    "systemd-run": _long_option_wrapper,
    "strace": _strace,
    "ltrace": _strace,
    "chroot": _one_operand_then_command,
    "sg": _one_operand_then_command,
    "flock": _one_operand_then_command,
    "su": _su,
    "runuser": _su,
    "busybox": _busybox,
    "toybox": _busybox,
    "command": _command,
    "builtin": _command,
    "exec": _exec,
    "coproc": _busybox,
    "watch": _watch,
    "script": _script,
    "xargs": _xargs,
    "find": _find,
    "parallel": _parallel,
    "eval": _eval,
    "trap": _trap,
    "cd": _cd,
    "pushd": _cd,
    "popd": _cd,
    "export": _declare,
    "declare": _declare,
    "typeset": _declare,
    "local": _declare,
    "readonly": _declare,
    "unset": _unset,
    "read": _read,
    "mapfile": _read,
    "readarray": _read,
    "alias": _alias,
    "unalias": _unalias,
    "echo": _echo,
    "printf": _printf,
    "base64": _base64,
    "base32": _base64,
    "basenc": _base64,
    "xxd": _xxd,
    "openssl": _openssl,
    "rev": _rev,
    "tr": _tr,
    "pwd": _pwd,
    "basename": _path_text,
    "dirname": _path_text,
    "realpath": _path_text,
    "mktemp": _mktemp,
    "kill": _kill,
    "pkill": _pkill,
    "pgrep": _pkill,
    "killall": _killall,
    "systemctl": _systemctl,
    "service": _service_style(False, frozenset({"stop", "restart", "force-stop", "force-reload"})),
    "rc-service": _service_style(False, frozenset({"stop", "restart"})),
    "supervisorctl": _service_style(True, frozenset({"stop", "restart", "remove"})),
    "launchctl": _service_style(
        True, frozenset({"stop", "unload", "remove", "bootout", "disable", "kill"})
    ),
    "sv": _service_style(True, frozenset({"stop", "down", "kill", "exit", "force-stop"})),
    "initctl": _service_style(True, frozenset({"stop", "restart"})),
    "docker": _docker,
    "podman": _docker,
    "tmux": _tmux,
    "screen": _screen,
    "init": _init,
    "telinit": _init,
    "at": _at,
    "batch": _at,
    "crontab": _crontab,
    "sqlite3": _sqlite,
    "sqlite": _sqlite,
    "duckdb": _sqlite,
    "psql": _psql,
    "mysql": _mysql,
    "mariadb": _mysql,
    "dropdb": _dropdb,
    "mysqladmin": _dropdb,
    "true": _noop,
    "false": _noop,
    ":": _noop,
    "test": _noop,
    "[": _noop,
    "[[": _noop,
    "python": _python,
    "python2": _python,
    "python3": _python,
    "pypy": _python,
    "pypy3": _python,
    "perl": _code_interpreter("perl", ("-e", "-E"), "i"),
    "ruby": _code_interpreter("ruby", ("-e",), "i"),
    "node": _code_interpreter("node", ("-e", "--eval", "-p", "--print")),
    "nodejs": _code_interpreter("node", ("-e", "--eval", "-p", "--print")),
    "bun": _code_interpreter("node", ("-e", "--eval", "-p", "--print")),
    "php": _code_interpreter("php", ("-r",)),
    "lua": _code_interpreter("lua", ("-e",)),
    "luajit": _code_interpreter("lua", ("-e",)),
    "deno": _deno,
}
for _shell_name in (
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "mksh",
    "ash",
    "fish",
    "rbash",
    "tcsh",
    "csh",
    "yash",
    "posh",
):
    EXEC_HANDLERS[_shell_name] = _shell
for _minor in range(6, 16):
    EXEC_HANDLERS[f"python3.{_minor}"] = _python
    EXEC_HANDLERS[f"pypy3.{_minor}"] = _python
