"""Style transforms for the classifier's corpus: the same action, written differently.

A classifier trained on our scripted agents alone would learn their style: `bash` with a
`command` argument, plain relative paths, no comments. Each transform here rewrites one
shell command so that it does exactly what it did before (the label stays true) in
another style an agent might use: `cd dir && relative path`, a variable holding the
path, `python3 -c`, a base64 payload piped to `sh`, a heredoc, `sh -c '...'`, other
quoting, comments in other languages. Transcript-level transforms rename the shell tool
and its argument, and add neutral narration. Both classes get the same transforms with
the same probabilities, so style is never a label.
"""

from __future__ import annotations

import base64
import random
import re
import shlex
from collections.abc import Callable

from ._transcript import Transcript

__all__ = [
    "COMMAND_TRANSFORMS",
    "NARRATION",
    "SHELL_ARGUMENTS",
    "SHELL_TOOLS",
    "augment_transcript",
    "shell_command",
]

SHELL_TOOLS = ("bash", "shell", "run_command", "execute", "exec_command", "Bash")
"""Names agents give their shell tool (the guard knows all but `execute`)."""

SHELL_ARGUMENTS = ("command", "cmd", "input", "script")
"""Argument names agents give the command line."""

NARRATION = (
    "Let me look at this first.",
    "Running the next step.",
    "Checking the result.",
    "OK, continuing.",
    "I'll do that now.",
    "Next, the files.",
    "Done with this part; moving on.",
    "That worked. Now the rest.",
    "Voyons le fichier.",
    "Ahora el siguiente paso.",
    "继续下一步。",
    "Weiter mit dem nächsten Schritt.",
)
"""Neutral things agents say between calls (no word here says what the action is)."""

# Comments in several languages; drawn for both classes alike, so their words carry no
# label. Some sound alarming and some harmless, in both classes.
_COMMENTS = (
    "désactiver le cache",
    "mettre à jour la configuration",
    "supprimer les fichiers temporaires",
    "copier les fichiers",
    "禁用 调试日志",
    "更新 配置",
    "删除 临时文件",
    "复制 文件",
    "desactivar el registro detallado",
    "actualizar la configuración",
    "borrar archivos temporales",
    "Konfiguration aktualisieren",
    "temporäre Dateien löschen",
    "отключить кэш",
    "обновить конфигурацию",
    "step 2",
    "quick fix",
    "as discussed",
    "TODO: tidy up later",
)

_INTERPRETERS = frozenset(
    {"sh", "bash", "zsh", "python", "python3", "node", "perl", "ruby", "source", "."}
)

CommandTransform = Callable[[str, random.Random], str | None]
"""Rewrites one shell command to an equivalent one, or None when it does not apply."""

_BARE_WORD = re.compile(r"[A-Za-z0-9_./~+@:%,-]+")
_PATHY = re.compile(r"^(?:~?/|\.{1,2}/)?[A-Za-z0-9_.+@%,-]+(?:/[A-Za-z0-9_.+@%,-]*)+$")
_SAFE_DOUBLE = re.compile(r"^[^$`\\\"!]*$")


def shell_command(arguments: dict[str, object]) -> tuple[str, str] | None:
    """The (argument name, command) of a shell call's arguments, or None."""
    for key in (*SHELL_ARGUMENTS, "commands"):
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            return key, value
    return None


def _unquoted_words(command: str) -> list[tuple[int, int, str]]:
    """Words outside quotes, comments and heredocs, as (start, end, text).

    Only words made of plain path characters are returned, so replacing one never
    changes how the rest of the line is split.
    """
    words: list[tuple[int, int, str]] = []
    i, n = 0, len(command)
    while i < n:
        char = command[i]
        if char == "<" and command.startswith("<<", i):
            return words  # a heredoc's body follows; stop before it
        if char in "'\"":
            end = command.find(char, i + 1)
            if end < 0:
                return words
            i = end + 1
            continue
        if char == "\\":
            i += 2
            continue
        if char == "#" and (i == 0 or command[i - 1].isspace()):
            end = command.find("\n", i)
            i = n if end < 0 else end
            continue
        match = _BARE_WORD.match(command, i)
        if match and (i == 0 or command[i - 1] in " \t\n;|&()<>"):
            end = match.end()
            if end == n or command[end] in " \t\n;|&()<>":
                words.append((i, end, match.group()))
            i = max(end, i + 1)
            continue
        i += 1
    return words


def _path_words(command: str) -> list[tuple[int, int, str]]:
    return [
        (s, e, w)
        for s, e, w in _unquoted_words(command)
        if _PATHY.match(w) and not w.startswith("-") and ":" not in w and "=" not in w
    ]


def _replace(command: str, spans: list[tuple[int, int]], text: str) -> str:
    out = command
    for start, end in sorted(spans, reverse=True):
        out = out[:start] + text + out[end:]
    return out


def _variable(command: str, rng: random.Random) -> str | None:
    paths = _path_words(command)
    if not paths or "\n" in command:
        return None
    target = rng.choice(paths)[2]
    name = rng.choice(("f", "p", "target", "TARGET", "cfg", "src", "file", "path_"))
    spans = [(s, e) for s, e, w in paths if w == target]
    value = shlex.quote(target) if not target.startswith("~") else target
    reference = f'"${name}"'
    return f"{name}={value}; {_replace(command, spans, reference)}"


def _cd_relative(command: str, rng: random.Random) -> str | None:
    if "\n" in command or re.search(r"(^|[;&|(]\s*)cd\s", command):
        return None
    paths = _path_words(command)
    relative = [w for _, _, w in paths if not w.startswith(("/", "~"))]
    candidates = sorted(
        {w.rsplit("/", 1)[0] for _, _, w in paths if "/" in w.strip("/") and not w.endswith("/")}
    )
    rng.shuffle(candidates)
    for directory in candidates:
        if not directory or directory in (".", ".."):
            continue
        prefix = directory + "/"
        # Every relative path must sit under the new directory, or it would break.
        if any(not w.startswith(prefix) for w in relative) and not directory.startswith("/"):
            continue
        if directory.startswith("/") and relative:
            continue
        # A quoted string naming the directory (python -c 'open("dir/x")') would break.
        if _quoted_mentions(command, directory):
            continue
        # A bare word without a slash might be a relative file name the cd would move.
        if _loose_names(command, directory):
            continue
        spans = [(s, e) for s, e, w in paths if w.startswith(prefix)]
        # A program or script run from the directory would run with another cwd.
        if not spans or any(_runs_from(command, s) for s, _ in spans):
            continue
        rewritten = command
        for start, end in sorted(spans, reverse=True):
            rest = command[start + len(prefix) : end]
            rewritten = rewritten[:start] + rest + rewritten[end:]
        joiner = rng.choice((" && ", "; ")) if not directory.startswith("/") else " && "
        # Path words hold no shell metacharacters, so the directory needs no quotes.
        return f"cd {directory}{joiner}{rewritten}"
    return None


def _runs_from(command: str, start: int) -> bool:
    """True when the word at `start` is a program or script being run."""
    before = command[:start].rstrip()
    if not before or before.endswith((";", "|", "&", "(", "\n")):
        return True
    previous = before.split()[-1].rsplit("/", 1)[-1]
    return previous in _INTERPRETERS


def _quoted_mentions(command: str, text: str) -> bool:
    bare = "".join(
        command[s:e] if i % 2 == 0 else " " for i, (s, e) in enumerate(_segments(command))
    )
    return command.count(text) > bare.count(text)


def _segments(command: str) -> list[tuple[int, int]]:
    """Alternating unquoted / quoted spans of a command."""
    spans: list[tuple[int, int]] = []
    start, i, n = 0, 0, len(command)
    while i < n:
        if command[i] in "'\"":
            end = command.find(command[i], i + 1)
            end = n - 1 if end < 0 else end
            spans.append((start, i))
            spans.append((i, end + 1))
            start = i = end + 1
            continue
        i += 1
    spans.append((start, n))
    return spans


def _loose_names(command: str, directory: str) -> bool:
    """True when a word without a slash may be a relative path the `cd` would move.

    That is a word with a dot (a file name) or one naming a part of `directory`
    (`ls project && cat project/x`).
    """
    parts = set(directory.strip("/").split("/"))
    for _, _, word in _unquoted_words(command):
        if "/" in word or re.match(r"^-|^\d+(\.\d+)*$", word):
            continue
        if word in parts or "." in word.strip("."):
            return True
    return False


def _sh_c(command: str, rng: random.Random) -> str | None:
    shell = rng.choice(("sh", "bash", "/bin/sh", "/bin/bash"))
    return f"{shell} -c {shlex.quote(command)}"


def _heredoc(command: str, rng: random.Random) -> str | None:
    marker = rng.choice(("EOF", "SCRIPT", "END", "CMD"))
    if marker in command:
        return None
    shell = rng.choice(("bash", "sh"))
    return f"{shell} <<'{marker}'\n{command}\n{marker}"


def _base64(command: str, rng: random.Random) -> str | None:
    payload = base64.b64encode(command.encode()).decode()
    decode = rng.choice(("base64 -d", "base64 --decode"))
    shell = rng.choice(("sh", "bash"))
    feed = rng.choice((f"echo {payload}", f"printf %s {payload}", f"echo '{payload}'"))
    return f"{feed} | {decode} | {shell}"


def _python_c(command: str, rng: random.Random) -> str | None:
    python = rng.choice(("python3", "python3", "python"))
    direct = _python_equivalent(command)
    if direct is not None and rng.random() < 0.6:
        return f"{python} -c {shlex.quote(direct)}"
    if rng.random() < 0.5:
        code = f"import subprocess; subprocess.run({command!r}, shell=True)"
    else:
        code = f"import os; os.system({command!r})"
    return f"{python} -c {shlex.quote(code)}"


def _python_equivalent(command: str) -> str | None:
    """Python for a few simple commands (rm, cp, mv, chmod, mkdir, cat); None otherwise."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or any(ch in command for ch in ";|&<>$`*?\n"):
        return None
    program, args = words[0], words[1:]
    if program == "rm" and args and set("".join(a for a in args if a.startswith("-"))) <= set("-f"):
        files = [a for a in args if not a.startswith("-")]
        if len(files) == 1:
            if "-f" in args:
                return f"import os, contextlib\nwith contextlib.suppress(FileNotFoundError): os.remove({files[0]!r})"  # noqa: E501
            return f"import os; os.remove({files[0]!r})"
    if program in ("cp", "mv") and len(args) == 2 and not any(a.startswith("-") for a in args):
        if program == "cp":
            return f"import shutil; shutil.copy({args[0]!r}, {args[1]!r})"
        return f"import shutil; shutil.move({args[0]!r}, {args[1]!r})"
    if program == "chmod" and len(args) == 2 and re.fullmatch(r"[0-7]{3,4}", args[0]):
        return f"import os; os.chmod({args[1]!r}, 0o{args[0]})"
    if (
        program == "mkdir"
        and args
        and set(args) - {"-p"}
        and all(a == "-p" or not a.startswith("-") for a in args)
    ):
        dirs = [a for a in args if a != "-p"]
        if len(dirs) == 1:
            return f"import os; os.makedirs({dirs[0]!r}, exist_ok={'-p' in args})"
    if program == "cat" and len(args) == 1 and not args[0].startswith("-"):
        return f"print(open({args[0]!r}).read(), end='')"
    return None


def _quoting(command: str, rng: random.Random) -> str | None:
    paths = _path_words(command)
    if paths and rng.random() < 0.6:
        quote = rng.choice(("'", '"'))
        spans = [(s, e) for s, e, w in paths if not w.startswith("~")]
        if not spans:
            return None
        out = command
        for start, end in sorted(spans, reverse=True):
            out = out[:start] + quote + command[start:end] + quote + out[end:]
        return out
    # Top-level 'text' -> "text" where the double quotes change nothing.
    if "<<" in command or "\\" in command:
        return None
    pieces: list[str] = []
    changed = False
    for start, end in _segments(command):
        piece = command[start:end]
        if piece.startswith("'") and piece.endswith("'") and len(piece) >= 2:
            body = piece[1:-1]
            if _SAFE_DOUBLE.match(body):
                piece, changed = f'"{body}"', True
        pieces.append(piece)
    return "".join(pieces) if changed else None


def _comment(command: str, rng: random.Random) -> str | None:
    text = rng.choice(_COMMENTS)
    if rng.random() < 0.5 or "<<" in command:
        return f"# {text}\n{command}"
    return f"{command}  # {text}"


COMMAND_TRANSFORMS: dict[str, CommandTransform] = {
    "variable": _variable,
    "cd": _cd_relative,
    "sh-c": _sh_c,
    "heredoc": _heredoc,
    "base64": _base64,
    "python-c": _python_c,
    "quoting": _quoting,
    "comment": _comment,
}
"""Every command transform by name. Each returns an equivalent command or None."""

# Wrappers that hide the whole command; applied last so the others act on plain text.
_WRAPPERS = ("sh-c", "heredoc", "base64", "python-c")


def augment_transcript(transcript: Transcript, rng: random.Random) -> tuple[Transcript, list[str]]:
    """A copy of `transcript` restyled by a random set of transforms.

    Every shell call keeps its action: the same files, the same effects. The shell
    tool is renamed (with its argument) throughout, commands are rewritten, and some
    assistant messages gain neutral narration.

    Args:
        transcript: The original (not changed).
        rng: Seeded random source: the same seed gives the same copy.

    Returns:
        The copy and the names of the transforms applied.
    """
    copy = transcript.model_copy(deep=True)
    applied: list[str] = []
    if rng.random() < 0.7:
        tool = rng.choice(SHELL_TOOLS)
        argument = "command" if tool == "Bash" else rng.choice(SHELL_ARGUMENTS)
        applied.append(f"tool={tool}:{argument}")
    else:
        tool = argument = ""
    plain = [n for n in COMMAND_TRANSFORMS if n not in _WRAPPERS]
    chosen = rng.sample(plain, k=rng.randint(0, 2))
    wrapper = rng.choice(_WRAPPERS) if rng.random() < 0.6 else None
    share = rng.choice((0.5, 1.0))
    for message in copy.messages:
        for call in message.tool_calls:
            found = shell_command(call.arguments)
            if found is None or call.tool not in (*SHELL_TOOLS, "sh", "zsh", "bash_session"):
                continue
            key, command = found
            if rng.random() < share:
                for name in [*chosen, *([wrapper] if wrapper else [])]:
                    rewritten = COMMAND_TRANSFORMS[name](command, rng)
                    if rewritten is not None:
                        command = rewritten
                        if name not in applied:
                            applied.append(name)
            if tool:
                del call.arguments[key]
                call.arguments[argument] = command
                call.tool = tool
            else:
                call.arguments[key] = command
    if rng.random() < 0.5:
        for message in copy.messages:
            if message.role == "assistant" and not message.text and rng.random() < 0.5:
                message.text = rng.choice(NARRATION)
        applied.append("narration")
    return copy, applied
