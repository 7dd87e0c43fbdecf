"""Path globs for policies, and whether a glob in a command can hit a protected path.

Policy patterns: `**` crosses directories, `*` and `?` stay inside one, `[...]` is a
character class; a pattern without `/` matches a path's last component (like
`.gitignore`), one with `/` the whole absolute path. Matching is case-sensitive for paths
and case-insensitive for names (`names=True`: tools, programs, hosts).

Commands can carry globs too (`rm project/over*`). When the files cannot be listed, a
command glob *may* hit a protected path if some string matches both globs:
`globs_intersect` decides that exactly for these glob languages (a product of the two
patterns' automata, memoised), so the guard errs towards blocking, never towards a miss.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["PathPattern", "PathSet", "has_glob", "globs_intersect", "name_matches"]

_GLOB_CHARS = frozenset("*?[")

# A token: ("lit", char) | ("one", "") any char but '/' | ("class", body) one char of a
# `[...]` class | ("star", "") any run without '/' | ("deep", "") any run including '/'.
# In the intersection test a class counts as any character; `**/` is handled by `_variants`.
_Token = tuple[str, str]


def has_glob(text: str) -> bool:
    """True if `text` holds a glob character."""
    return not _GLOB_CHARS.isdisjoint(text)


@lru_cache(maxsize=4096)
def _tokens(pattern: str) -> tuple[_Token, ...]:
    """The glob as tokens; both the regex and the intersection test are built from them."""
    tokens: list[_Token] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern.startswith("**", i):
                tokens.append(("deep", ""))
                i += 2
                continue
            tokens.append(("star", ""))
        elif char == "?":
            tokens.append(("one", ""))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                tokens.append(("lit", char))
            else:
                tokens.append(("class", pattern[i + 1 : end]))  # one character, never '/'
                i = end
        else:
            tokens.append(("lit", char))
        i += 1
    return tuple(tokens)


def _regex(pattern: str) -> str:
    tokens = _tokens(pattern)
    out: list[str] = []
    for index, (kind, value) in enumerate(tokens):
        if kind == "deep":
            # `**/` also matches no directory at all: `a/**/b` matches `a/b`.
            follows_slash = index + 1 < len(tokens) and tokens[index + 1] == ("lit", "/")
            out.append("(?:.*" if follows_slash else ".*")
        elif kind == "lit" and index > 0 and tokens[index - 1] == ("deep", "") and value == "/":
            out.append("/)?")
        elif kind == "star":
            out.append("[^/]*")
        elif kind == "one":
            out.append("[^/]")
        elif kind == "class":
            body = "^" + value[1:] if value.startswith("!") else value
            out.append("[" + body.replace("\\", "\\\\") + "]")
        else:
            out.append(re.escape(value))
    return "".join(out)


class PathPattern:
    """One compiled policy path glob."""

    __slots__ = ("_anchored", "_re", "pattern")

    def __init__(self, pattern: str) -> None:
        """Compile `pattern` (a policy glob, see the module docstring)."""
        self.pattern = pattern
        self._anchored = "/" in pattern
        self._re = re.compile(_regex(pattern) + r"\Z")

    def __repr__(self) -> str:
        return f"PathPattern({self.pattern!r})"

    def matches(self, path: str) -> bool:
        """True if the literal path `path` matches (globs in `path` are literal here)."""
        target = path if self._anchored else path.rsplit("/", 1)[-1]
        return self._re.match(target) is not None

    def may_match(self, path: str) -> bool:
        """True if `path`, itself possibly a glob, can name a file this pattern matches."""
        if not has_glob(path):
            return self.matches(path)
        if self._anchored:
            return globs_intersect(path, self.pattern)
        return globs_intersect(path.rsplit("/", 1)[-1], self.pattern)


class PathSet:
    """Several policy globs matched at once (one regex for full paths, one for names)."""

    __slots__ = ("_base", "_full", "patterns")

    def __init__(self, patterns: list[str]) -> None:
        """Compile `patterns` (policy globs)."""
        self.patterns = [PathPattern(p) for p in patterns]
        full = [_regex(p) for p in patterns if "/" in p]
        base = [_regex(p) for p in patterns if "/" not in p]
        self._full = re.compile("(?:" + "|".join(full) + r")\Z") if full else None
        self._base = re.compile("(?:" + "|".join(base) + r")\Z") if base else None

    def matches(self, path: str) -> bool:
        """True if any glob matches the literal path."""
        if self._full is not None and self._full.match(path):
            return True
        return self._base is not None and self._base.match(path.rsplit("/", 1)[-1]) is not None

    def may_match(self, path: str) -> bool:
        """True if `path`, itself possibly a glob, can name a file some glob matches."""
        if not has_glob(path):
            return self.matches(path)
        return any(p.may_match(path) for p in self.patterns)


def globs_intersect(left: str, right: str) -> bool:
    """True if some path matches both globs (`**` crosses `/`, `*`/`?`/`[]` do not)."""
    return any(
        _intersect(_tokens(a), _tokens(b)) for a in _variants(left) for b in _variants(right)
    )


@lru_cache(maxsize=4096)
def _variants(pattern: str) -> tuple[str, ...]:
    """`**/` matches zero or more directories: one variant without it, one with `**/`."""
    head, sep, tail = pattern.partition("**/")
    if not sep:
        return (pattern,)
    rest = _variants(tail)
    return tuple(head + "**/" + r for r in rest) + tuple(head + r for r in rest)


@lru_cache(maxsize=8192)
def _intersect(a: tuple[_Token, ...], b: tuple[_Token, ...]) -> bool:
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        stack.extend(_moves(a, b, i, j))
    return False


def _moves(a: tuple[_Token, ...], b: tuple[_Token, ...], i: int, j: int) -> list[tuple[int, int]]:
    moves: list[tuple[int, int]] = []
    ta = a[i] if i < len(a) else None
    tb = b[j] if j < len(b) else None
    # Stars may match nothing.
    if ta is not None and ta[0] in ("star", "deep"):
        moves.append((i + 1, j))
    if tb is not None and tb[0] in ("star", "deep"):
        moves.append((i, j + 1))
    if ta is None or tb is None:
        return moves
    # Both consume one character they agree on; a star stays where it is.
    char = _common_char(ta, tb)
    if char is None:
        return moves
    next_i = i if ta[0] in ("star", "deep") else i + 1
    next_j = j if tb[0] in ("star", "deep") else j + 1
    if (next_i, next_j) != (i, j):  # two stars consuming together adds nothing new
        moves.append((next_i, next_j))
    return moves


def _common_char(ta: _Token, tb: _Token) -> str | None:
    """A character both tokens accept, or None."""
    slash_a = ta[0] == "deep" or (ta[0] == "lit" and ta[1] == "/")
    slash_b = tb[0] == "deep" or (tb[0] == "lit" and tb[1] == "/")
    if ta[0] == "lit" and tb[0] == "lit":
        return ta[1] if ta[1] == tb[1] else None
    if ta[0] == "lit":
        return ta[1] if ta[1] != "/" or slash_b else None
    if tb[0] == "lit":
        return tb[1] if tb[1] != "/" or slash_a else None
    return "x"  # two wildcards always share an ordinary character


@lru_cache(maxsize=4096)
def _name_regex(pattern: str) -> re.Pattern[str]:
    return re.compile(_regex(pattern.lower()).replace("[^/]", "."), re.DOTALL)


def name_matches(name: str, pattern: str) -> bool:
    """Case-insensitive glob match of a name (tool, program, host, process); `*` spans all."""
    return _name_regex(pattern).fullmatch(name.lower()) is not None
