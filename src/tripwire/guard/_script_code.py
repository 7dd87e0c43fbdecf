"""Best-effort reading of inline perl, ruby, node, php, lua, awk and sed code.

There is no parser for these languages here, so this looks for the calls that matter
with literal arguments (`unlink "f"`, `fs.writeFileSync('f', ...)`, `system("rm x")`)
and reports them; a call that runs code or commands from a non-literal (`system($cmd)`,
`eval(x)`) is `opaque`. Plain computation (`perl -e 'print 1'`) has no effects.
"""

from __future__ import annotations

import re

from ._shell_state import Cmd

__all__ = ["awk_effects", "script_effects", "sed_effects"]

_STR = r"""(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`)"""
"""A string literal in double, single or back quotes (groups 1-3)."""


def _literal(match: re.Match[str], first_group: int) -> str | None:
    for offset in range(3):
        value = match.group(first_group + offset)
        if value is not None:
            if offset != 1 and re.search(r"[$@]\w|\$\{|#\{", value):
                return None  # interpolates a variable
            return value
    return None


# (pattern, effect kind) where the pattern's first string literal is the path.
_FILE_CALLS: dict[str, list[tuple[str, str]]] = {
    "perl": [
        (r"\bunlink\s*\(?\s*" + _STR, "delete"),
        (r"\brmtree\s*\(?\s*" + _STR, "delete"),
        (r"\bremove_tree\s*\(?\s*" + _STR, "delete"),
        (
            r"\bopen\s*\(?\s*(?:my\s+)?[\$\w]+\s*,\s*['\"](?:>|>>|\+<|\+>)['\"]\s*,\s*" + _STR,
            "write",
        ),
        (
            r"\bopen\s*\(?\s*(?:my\s+)?[\$\w]+\s*,\s*['\"](?:>>?|\+<|\+>)\s*([^'\"]+)['\"]()()",
            "write",
        ),
        (r"\bopen\s*\(?\s*(?:my\s+)?[\$\w]+\s*,\s*(?:['\"]<['\"]\s*,\s*)?" + _STR, "read"),
        (r"\bchmod\s*\(?\s*[0-7]+\s*,\s*" + _STR, "permission"),
        (r"\bchown\s*\(?\s*[^,]+,\s*[^,]+,\s*" + _STR, "permission"),
        (r"\btruncate\s*\(?\s*" + _STR, "write"),
    ],
    "ruby": [
        (r"\bFile\.(?:write|binwrite)\s*\(?\s*" + _STR, "write"),
        (r"\bFile\.open\s*\(?\s*" + _STR + r"\s*,\s*['\"][wa+]", "write"),
        (r"\bFile\.(?:read|readlines|binread|open)\s*\(?\s*" + _STR, "read"),
        (
            r"\b(?:File\.(?:delete|unlink)|FileUtils\.(?:rm|rm_r|rm_rf|rm_f|remove|rmdir|remove_dir|remove_entry))\s*\(?\s*"
            + _STR,
            "delete",
        ),
        (r"\b(?:File|FileUtils)\.chmod\s*\(?\s*[^,]+,\s*" + _STR, "permission"),
        (r"\bFileUtils\.touch\s*\(?\s*" + _STR, "write"),
    ],
    "node": [
        (
            r"\b(?:writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|truncate|truncateSync)\s*\(\s*"
            + _STR,
            "write",
        ),
        (r"\b(?:readFile|readFileSync|createReadStream)\s*\(\s*" + _STR, "read"),
        (r"\b(?:unlink|unlinkSync|rm|rmSync|rmdir|rmdirSync)\s*\(\s*" + _STR, "delete"),
        (r"\b(?:chmod|chmodSync|chown|chownSync)\s*\(\s*" + _STR, "permission"),
    ],
    "php": [
        (r"\bfile_put_contents\s*\(\s*" + _STR, "write"),
        (r"\bfile_get_contents\s*\(\s*" + _STR, "read"),
        (r"\b(?:unlink|rmdir)\s*\(\s*" + _STR, "delete"),
        (r"\bchmod\s*\(\s*" + _STR, "permission"),
        (r"\bfopen\s*\(\s*" + _STR + r"\s*,\s*['\"][wax+]", "write"),
    ],
    "lua": [
        (r"\bos\.remove\s*\(\s*" + _STR, "delete"),
        (r"\bio\.open\s*\(\s*" + _STR + r"\s*,\s*['\"][wa+]", "write"),
    ],
}

# Moves: (pattern with two literals, kind).
_MOVE_CALLS: dict[str, list[str]] = {
    "perl": [r"\b(?:rename|move)\s*\(?\s*" + _STR + r"\s*,\s*" + _STR],
    "ruby": [r"\b(?:File\.rename|FileUtils\.(?:mv|move))\s*\(?\s*" + _STR + r"\s*,\s*" + _STR],
    "node": [r"\b(?:rename|renameSync)\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
    "php": [r"\brename\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
    "lua": [r"\bos\.rename\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
}
_COPY_CALLS: dict[str, list[str]] = {
    "perl": [r"\bcopy\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
    "ruby": [r"\bFileUtils\.(?:cp|cp_r|copy)\s*\(?\s*" + _STR + r"\s*,\s*" + _STR],
    "node": [r"\b(?:copyFile|copyFileSync|cp|cpSync)\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
    "php": [r"\bcopy\s*\(\s*" + _STR + r"\s*,\s*" + _STR],
}

# Calls that run a shell command; a literal argument is analysed, anything else is opaque.
_RUN_CALLS: dict[str, str] = {
    "perl": r"\b(?:system|exec)\s*\(?\s*",
    "ruby": r"\b(?:system|exec|spawn|IO\.popen|Open3\.\w+)\s*\(?\s*",
    "node": r"\b(?:execSync|exec|spawnSync|spawn|execFileSync|execFile)\s*\(\s*",
    "php": r"\b(?:system|exec|shell_exec|passthru|popen|proc_open)\s*\(\s*",
    "lua": r"\b(?:os\.execute|io\.popen)\s*\(?\s*",
}
# Calls that run code from a string: only a literal is safe (and analysed as the language).
_EVAL_CALLS: dict[str, str] = {
    "perl": r"\beval\s*\(?\s*",
    "ruby": r"\b(?:eval|instance_eval|class_eval)\s*\(?\s*",
    "node": r"\b(?:eval|Function|vm\.runIn\w+)\s*\(\s*",
    "php": r"\b(?:eval|assert)\s*\(\s*",
    "lua": r"\b(?:load|loadstring|dofile)\s*\(\s*",
}
_BACKTICKS = {
    "perl": r"`([^`]*)`|\bqx\s*[{(/]([^})/]*)[})/]",
    "ruby": r"`([^`]*)`|%x[{(]([^})]*)[})]",
    "php": r"`([^`]*)`",
}
_NETWORK = r"""['"]((?:https?|ftp|wss?)://[^'"\s]+)['"]"""


def script_effects(cmd: Cmd, language: str, code: str) -> None:
    """Emit the effects of inline `language` code (best effort, see module docstring)."""
    for pattern, kind in _FILE_CALLS.get(language, []):
        for match in re.finditer(pattern, code):
            cmd.file_effect(kind, _literal(match, 1), via=_snippet(match))  # type: ignore[arg-type]
    for pattern in _MOVE_CALLS.get(language, []):
        for match in re.finditer(pattern, code):
            source, dest = _literal(match, 1), _literal(match, 4)
            via = _snippet(match)
            source_path = cmd.file_effect("read", source, via=via)
            cmd.file_effect("delete", source, via=via)
            dest_path = cmd.file_effect("write", dest, via=via)
            cmd.emit("copy", source=source_path, path=dest_path, via=via)
    for pattern in _COPY_CALLS.get(language, []):
        for match in re.finditer(pattern, code):
            via = _snippet(match)
            source_path = cmd.file_effect("read", _literal(match, 1), via=via)
            dest_path = cmd.file_effect("write", _literal(match, 4), via=via)
            cmd.emit("copy", source=source_path, path=dest_path, via=via)
    run = _RUN_CALLS.get(language)
    if run:
        for match in re.finditer(run, code):
            literal = re.match(_STR, code[match.end() :])
            text: str | None = _literal(literal, 1) if literal else None
            if language == "node" and literal and text is not None:
                text = _with_node_args(code[match.end() + literal.end() :], text)
            cmd.engine.run_text(cmd, text, program=cmd.name)
    backticks = _BACKTICKS.get(language)
    if backticks:
        for match in re.finditer(backticks, code):
            command: str | None = match.group(1) if match.group(1) is not None else match.group(2)
            if command is not None and re.search(r"[$@]\w|\$\{|#\{", command):
                command = None  # interpolated: the command is not known
            cmd.engine.run_text(cmd, command, program=cmd.name)
    evaluate = _EVAL_CALLS.get(language)
    if evaluate:
        for match in re.finditer(evaluate, code):
            rest = code[match.end() :]
            if rest.startswith("{") and language == "perl":
                continue  # `eval { ... }` is a block, not a string
            literal = re.match(_STR, rest)
            nested = _literal(literal, 1) if literal else None
            if nested is None:
                cmd.opaque(cmd.name, via=_snippet(match, rest))
            elif nested != code:
                script_effects(cmd, language, nested)
    for match in re.finditer(_NETWORK, code):
        from ._shell_net import host_of_url

        cmd.network(host_of_url(match.group(1)))


def _with_node_args(after: str, program: str) -> str:
    """`spawn('rm', ['-rf', 'x'])`: the program followed by its literal arguments."""
    array = re.match(r"\s*,\s*\[([^\]]*)\]", after)
    if not array:
        return program
    items = re.findall(_STR, array.group(1))
    words = [next((g for g in groups if g), "") for groups in items]
    import shlex

    return " ".join([program, *(shlex.quote(w) for w in words)])


def _snippet(match: re.Match[str], rest: str = "") -> str:
    text = match.group(0) + rest[:60]
    return text[:200]


def awk_effects(cmd: Cmd, program: str | None) -> None:
    """An awk program: `system(...)` and pipes run commands, `print > "f"` writes f."""
    if program is None:
        return
    for match in re.finditer(r"\bsystem\s*\(", program):
        literal = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*\)', program[match.end() :])
        cmd.engine.run_text(cmd, literal.group(1) if literal else None, program=cmd.name)
    for match in re.finditer(r'(?:print|printf)[^>|;}]*>>?\s*"([^"]+)"', program):
        cmd.file_effect("write", match.group(1))
    for match in re.finditer(r'(?:print|printf)[^|;}]*\|\s*("(?:[^"\\]|\\.)*"|\w+)', program):
        target = match.group(1)
        cmd.engine.run_text(cmd, target[1:-1] if target.startswith('"') else None, program=cmd.name)
    for match in re.finditer(r'("(?:[^"\\]|\\.)*"|\w+)\s*\|\s*getline', program):
        target = match.group(1)
        cmd.engine.run_text(cmd, target[1:-1] if target.startswith('"') else None, program=cmd.name)


def sed_effects(cmd: Cmd, script: str | None) -> None:
    """A sed script: `w file` writes, `r file` reads, the `e` command and flag run shell."""
    if script is None:
        return
    for match in re.finditer(r"(?:^|[;\n}]|/[gip0-9]*)\s*([wWrR])\s+([^;\n}]+)", script):
        cmd.file_effect("write" if match.group(1) in "wW" else "read", match.group(2).strip())
    if re.search(r"(?:^|[;\n])\s*e\b", script) or any(
        "e" in flags for flags in _sed_substitution_flags(script)
    ):
        cmd.opaque("sed")


# Where a sed command can start: the script's start, after `;`, a newline, a brace or `!`,
# or after an address (a line number, `$`, or a `/regex/`).
_SED_COMMAND_START = re.compile(r"(?:^|[;\n{}!]|[0-9$]|/)\s*s(?=[^\w\s\\])")


def _sed_substitution_flags(script: str) -> list[str]:
    """The flags of each `s` command in a sed script (`s/a/b/ge` -> `ge`).

    Pattern and replacement are skipped with their escapes, so an `e` inside them
    (`s/def test/def skip_test/`) is not read as the flag that runs the result as a
    command.
    """
    found: list[str] = []
    for match in _SED_COMMAND_START.finditer(script):
        position = match.end()
        delimiter = script[position]
        position += 1
        for _ in range(2):  # the pattern, then the replacement
            while position < len(script) and script[position] != delimiter:
                position += 2 if script[position] == "\\" else 1
            position += 1
        if position > len(script):
            continue  # unterminated: not a substitution sed would run
        flags = re.match(r"[A-Za-z0-9]*", script[position:])
        found.append(flags.group(0) if flags else "")
    return found
