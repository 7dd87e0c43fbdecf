"""shell_effects on arbitrary text: a list of effects or UnparseableError, never a crash or hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripwire._errors import UnparseableError
from tripwire.guard._effects import Effect
from tripwire.guard._shell import shell_effects

_TOKENS = [
    "rm",
    "-rf",
    "cat",
    "echo",
    "bash",
    "-c",
    "sh",
    "eval",
    "ssh",
    "h",
    "x",
    "~/",
    "/etc/p",
    "$X",
    "${X:-y}",
    "$(",
    ")",
    "`",
    "'",
    '"',
    "$'\\x72'",
    "|",
    "||",
    "&&",
    ";",
    "&",
    "(",
    ")",
    "{",
    "}",
    "<",
    ">",
    ">>",
    "<<EOF\nx\nEOF\n",
    "<<<",
    "2>&1",
    "&>",
    "if",
    "then",
    "fi",
    "for",
    "in",
    "do",
    "done",
    "case",
    "esac",
    ";;",
    "while",
    "f()",
    "alias",
    "x=rm",
    "xargs",
    "find",
    ".",
    "-exec",
    "{}",
    "\\;",
    "-delete",
    "base64",
    "-d",
    "python3",
    "import os;os.system('x')",
    "perl",
    "-e",
    "*",
    "{a,b}",
    "{1..3}",
    "\\",
    "\n",
    "#",
    "sudo",
    "env",
    "A=1",
    "curl",
    "http://e/x",
    "nc",
    "sqlite3",
    "prod.db",
    "'DROP TABLE t'",
    "time",
    "[[",
    "]]",
    "$((1+2))",
    "<(",
    ">(",
    "!",
    "export",
    "cd",
    "..",
    "tee",
    "sed",
    "-i",
    "dd",
    "of=/dev/sda",
]

shell_soup = st.lists(st.sampled_from(_TOKENS), max_size=24).map(" ".join)
mixed = st.lists(st.one_of(st.sampled_from(_TOKENS), st.text(max_size=6)), max_size=16).map("".join)


def _check(command: str) -> None:
    try:
        found = shell_effects(command, "/w/p", home="/home/ag")
    except UnparseableError as err:
        assert str(err) and "\n" not in str(err).strip()[:1]
        return
    assert isinstance(found, list)
    assert all(isinstance(e, Effect) and len(e.via) <= 400 and e.kind != "call" for e in found)
    for effect in found:
        if effect.path is not None and effect.host is None:
            assert effect.path.startswith("/"), effect


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_arbitrary_text_never_crashes(command: str) -> None:
    _check(command)


@settings(max_examples=600, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(shell_soup)
def test_shell_token_soup_never_crashes(command: str) -> None:
    _check(command)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(mixed)
def test_mixed_text_never_crashes(command: str) -> None:
    _check(command)
