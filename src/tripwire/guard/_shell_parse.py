"""Shell text to a bashlex syntax tree, with the gaps of bashlex 0.18 filled.

bashlex is a port of bash's own grammar, but 0.18 leaves some of it unimplemented or
wrong, and the guard must read what agents actually type. This module patches bashlex
once, at import:

- `case ... esac` builds a node (bashlex raises NotImplementedError): an `if`-kind node
  with `case=True`, whose parts hold the subject, the patterns and every branch body.
- `time`, `coproc`, `[[` and `]]` are read as ordinary words, so `time make` is a
  command the analyser peels like `nohup`, and `[[ -f x ]]` is a harmless command.
- `$(( ... ))` arithmetic becomes a parameter node (bashlex raises); arithmetic with a
  command substitution inside stays unparseable.
- An unclosed `${` is a syntax error (bashlex looped forever on it).
- A here-document's delimiter has its quotes removed (`<<'EOF'` ends at `EOF`), and a
  `<<-` body made only of tabs no longer loops forever.

Every other failure of bashlex (its parser raises many exception types, and recurses)
becomes one `UnparseableError`, so the policy can deny what the guard cannot read.
"""

from __future__ import annotations

import sys
from typing import Any

import bashlex
from bashlex import ast as bast
from bashlex import errors as berrors
from bashlex import heredoc as bheredoc
from bashlex import parser as bparser
from bashlex import subst as bsubst
from bashlex import tokenizer as btokenizer

from .._errors import UnparseableError

__all__ = ["MAX_COMMAND_CHARS", "parse_shell"]

MAX_COMMAND_CHARS = 100_000
"""Longest command text the guard parses; longer ones are unparseable (denied)."""

_RECURSION_LIMIT = 5_000
"""bashlex recurses per nesting level; deep input is refused rather than crashing."""


def parse_shell(text: str) -> list[Any]:
    """Parse shell text into bashlex's top-level nodes.

    Args:
        text: The command as the agent wrote it (several lines allowed).

    Returns:
        The top-level nodes (`command`, `pipeline`, `list`, `compound`, `function`);
        empty for blank text or text that is only comments.

    Raises:
        UnparseableError: The text is too long or bashlex cannot parse it.
    """
    if len(text) > MAX_COMMAND_CHARS:
        raise UnparseableError(
            f"shell command is {len(text)} characters, over the guard's limit of "
            f"{MAX_COMMAND_CHARS}: split it into smaller commands"
        )
    if "\x00" in text:
        raise UnparseableError("shell command contains a NUL byte, which no shell accepts")
    if not _has_code(text):
        return []
    old_limit = sys.getrecursionlimit()
    if old_limit < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    try:
        return list(bashlex.parse(text))
    except RecursionError:
        raise UnparseableError("shell command is nested too deeply to parse") from None
    except berrors.ParsingError as err:
        raise UnparseableError(f"shell syntax the guard cannot parse: {err.message}") from None
    except Exception as err:  # noqa: BLE001 - bashlex raises many types; all mean "cannot read"
        kind = type(err).__name__
        raise UnparseableError(
            f"shell syntax the guard cannot parse ({kind}: {err})"[:300]
        ) from None
    finally:
        if old_limit < _RECURSION_LIMIT:
            sys.setrecursionlimit(old_limit)


def _has_code(text: str) -> bool:
    """False for text bashlex would reject as empty: blank lines and comments only."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return True
    return False


# --- patches to bashlex 0.18 -------------------------------------------------------------


def _case_command(p: Any) -> None:
    parts = bparser._makeparts(p)
    node = bast.node(kind="if", case=True, parts=parts, pos=bparser._partsspan(parts))
    p[0] = bast.node(kind="compound", redirects=[], list=[node], pos=node.pos)


def _flatten(p: Any) -> None:
    # Case clauses and patterns become flat lists of nodes; the `case` node holds them.
    p[0] = bparser._makeparts(p)


_PRODUCTIONS = {
    "p_case_command": _case_command,
    "p_case_clause": _flatten,
    "p_pattern_list": _flatten,
    "p_case_clause_sequence": _flatten,
    "p_pattern": _flatten,
}


def _unquote(word: str) -> str:
    out: list[str] = []
    escaped = False
    for char in word:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char not in "'\"":
            out.append(char)
    return "".join(out)


def _make_heredoc(tokenizer: Any, redirnode: Any, lineno: int, killleading: bool) -> str:
    """Bashlex's `makeheredoc`, with quote removal on the delimiter and no tab loop.

    The node's value is the body only (bashlex's included the delimiter line).
    """
    delimiter = _unquote(redirnode.output.word)
    startpos = tokenizer._shell_input_line_index
    document: list[str] = []
    while True:
        line = tokenizer.readline(False)
        if not line:
            raise berrors.ParsingError(
                f"here-document delimited by end of input (wanted {delimiter!r})",
                tokenizer._shell_input_line,
                tokenizer._shell_input_line_index,
            )
        body = line.lstrip("\t") if killleading else line
        if body.rstrip("\n") == delimiter:
            break
        document.append(body)
    text = "".join(document)
    endpos = tokenizer._shell_input_line_index - 1
    redirnode.heredoc = bast.node(kind="heredoc", value=text, pos=(startpos, endpos))
    if redirnode.pos[1] + 1 == startpos:
        redirnode.pos = (redirnode.pos[0], endpos)
    return text


_original_commandsubst = bsubst._extractcommandsubst


def _extract_commandsubst(parserobj: Any, string: str, sindex: int, sxcommand: bool = False) -> Any:
    """Bashlex's `$(...)` reader, which also reads `$((...))` as an opaque parameter."""
    if not string.startswith("(", sindex):
        return _original_commandsubst(parserobj, string, sindex, sxcommand)
    depth = 0
    for index in range(sindex, len(string)):
        char = string[index]
        if char == "`" or string.startswith("$(", index):
            raise NotImplementedError("command substitution inside arithmetic")
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == -1:
                node = bast.node(
                    kind="parameter", value="((arithmetic))", pos=(sindex - 2, index + 1)
                )
                return node, index + 1
    raise berrors.ParsingError("unterminated arithmetic expansion", string, sindex)


_original_paramexpand = bsubst._paramexpand


def _paramexpand(parserobj: Any, string: str, sindex: int) -> Any:
    """Bashlex's `$...` reader; an unclosed `${` made it loop forever (it restarts at 0)."""
    if string.startswith("${", sindex) and string.find("}", sindex + 2) < 0:
        raise berrors.ParsingError("bad substitution: no closing '}'", string, sindex)
    return _original_paramexpand(parserobj, string, sindex)


def _patch() -> None:
    for production in bparser.yaccparser.productions:
        replacement = _PRODUCTIONS.get(getattr(production, "func", None) or "")
        if replacement is not None:
            production.callable = replacement
    for word in ("time", "coproc", "[[", "]]"):
        btokenizer.valid_reserved_first_command.pop(word, None)
    bheredoc.makeheredoc = _make_heredoc
    bsubst._extractcommandsubst = _extract_commandsubst
    bsubst._paramexpand = _paramexpand


_patch()
