"""`tripwire` command lines with fuzzed arguments and paths, run in-process.

Whatever the arguments, `main()` ends in `SystemExit` with a documented code (0, 1 or
2; `guard check` uses 1 for ask and 2 for deny), never another exception, and an
`error:` is one line. Commands that would start an evaluation or training are only
given arguments that must be refused before anything runs.
"""

# ruff: noqa: E501

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import pytest
from fuzz_budget import budget
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tripwire._cli.main import main
from tripwire.scenarios import scenario_names

POOL = {
    "garbage": b"\xff\xfe\x00garbage",
    "empty.jsonl": b"",
    "wrong.json": b'{"a": [1, 2]}\n',
    "list.json": b"[]",
    "bad.yaml": b"rules: [\n",
    "deep.json": b"[" * 50_000,
    "surrogate.jsonl": b'{"role": "user", "content": "\\ud800"}\n',
    "chat.jsonl": b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "bash", "arguments": "{\\"command\\": \\"rm -rf /\\"}"}}]}]}\n',
}


@pytest.fixture(scope="module")
def pool(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pool")
    for name, content in POOL.items():
        (root / name).write_bytes(content)
    (root / "dir").mkdir()
    (root / "dir" / "notes.txt").write_text("nothing here")
    return root


def run(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """`tripwire *args` through `main()`: (exit code, stdout, stderr)."""
    runner = CliRunner()
    with contextlib.chdir(cwd), runner.isolation(input=b"") as (out, err, _):
        saved = sys.argv
        sys.argv = ["tripwire", *args]
        try:
            main()
        except SystemExit as ex:
            code = ex.code
        else:
            code = 0
        finally:
            sys.argv = saved
        stdout, stderr = (
            out.getvalue().decode(errors="replace"),
            err.getvalue().decode(errors="replace"),
        )
    assert isinstance(code, int), (args, code)
    return code, stdout, stderr


def check(args: list[str], cwd: Path, codes: tuple[int, ...] = (0, 1, 2)) -> tuple[int, str, str]:
    code, stdout, stderr = run(args, cwd)
    assert code in codes, (args, code, stderr[-2000:])
    assert "Traceback" not in stderr, (args, stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    for line in errors:
        index = stderr.splitlines().index(line)
        following = stderr.splitlines()[index + 1 : index + 2]
        assert not following or not following[0].startswith(" "), (args, stderr)  # one line
    return code, stdout, stderr


_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12
)
_names = st.sampled_from(
    [*POOL, "dir", "missing", "dir/missing.json", "../" * 3 + "etc", "\udcff.json"]
)


@st.composite
def paths(draw: st.DrawFn) -> str:
    name = draw(_names)
    return f"{{pool}}/{name}"


_number = st.one_of(
    st.sampled_from(["0", "-1", "nan", "inf", "1e999", "abc", "", "0.5", "101", "3"]), _text
)
_commands = st.one_of(
    st.tuples(st.just(["report"]), st.lists(paths(), min_size=1, max_size=2)),
    st.tuples(
        st.just(["guard", "check"]),
        st.lists(
            st.one_of(
                _text,
                st.sampled_from(
                    [
                        "--tool",
                        "--args",
                        "--cwd",
                        "--json",
                        "--policy",
                        "Write",
                        '{"file_path": 5}',
                        "{bad",
                        "[1]",
                        '{"command": null}',
                    ]
                ),
                paths(),
            ),
            min_size=1,
            max_size=5,
        ),
    ),
    st.tuples(
        st.just(["guard", "replay"]),
        st.lists(
            st.one_of(paths(), st.sampled_from(["--all", "--json", "--cwd", "--policy"])),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(
        st.just(["guard", "kill"]), st.tuples(_text, st.just("--runs-dir"), paths()).map(list)
    ),
    st.tuples(st.just(["guard", "runs", "--runs-dir"]), st.lists(paths(), min_size=1, max_size=1)),
    st.tuples(
        st.just(["audit", "verify"]),
        st.lists(
            st.one_of(paths(), st.sampled_from(["--key-file", "--head", "--json"]), _number),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(
        st.just(["audit", "show"]),
        st.lists(
            st.one_of(paths(), st.sampled_from(["--kind", "--last"]), _number),
            min_size=1,
            max_size=4,
        ),
    ),
    st.tuples(
        st.just(["monitor", "score"]),
        st.lists(
            st.one_of(
                paths(),
                st.sampled_from(
                    [
                        "--scorer",
                        "rules",
                        "classifier",
                        "nope",
                        "--threshold",
                        "--policy",
                        "--classifier",
                    ]
                ),
                _number,
            ),
            min_size=1,
            max_size=5,
        ),
    ),
    st.tuples(
        st.just(["monitor", "evaluate"]),
        st.lists(
            st.one_of(
                paths(), st.sampled_from(["--honest", "--attack", "--scorer", "rules", "--json"])
            ),
            min_size=1,
            max_size=5,
        ),
    ),
    st.tuples(
        st.just(["monitor", "control"]),
        st.lists(
            st.one_of(
                paths(),
                st.sampled_from(
                    ["--budgets", "--defer", "--trusted-usefulness", "--scorer", "rules"]
                ),
                _number,
            ),
            min_size=1,
            max_size=5,
        ),
    ),
    # Commands that would run evaluations: only arguments that must be refused first.
    st.tuples(
        st.just(["eval"]),
        st.tuples(
            _text.filter(
                lambda name: name.strip() not in scenario_names() and not name.startswith("-")
            )
        ).map(list),
    ),
    st.tuples(
        st.just(["eval", "oversight-subversion", "--themes", "no-such-theme"]),
        st.lists(
            st.sampled_from(
                [
                    "--epochs",
                    "--max-turns",
                    "--size",
                    "--conditions",
                    "--sandbox",
                    "--guard",
                    "-1",
                    "abc",
                    "{pool}/bad.yaml",
                ]
            ),
            max_size=4,
        ),
    ),
    st.tuples(
        st.just(["run", "--epochs"]),
        st.lists(st.sampled_from(["abc", "", "1e999", "x"]), min_size=1, max_size=1),
    ),
)


@budget(80)
@given(_commands)
@example((["report"], ["{pool}/garbage"]))
@example((["monitor", "score"], ["{pool}/surrogate.jsonl"]))
@example((["guard", "replay"], ["{pool}/deep.json"]))
@example((["guard", "check"], ["--tool", "Write", "--args", '{"file_path": null}']))
@example((["monitor", "control"], ["{pool}/list.json"]))  # printed pydantic's three-line error
def test_any_command_line_ends_in_a_documented_exit(pool, tmp_path_factory, command):
    prefix, rest = command
    args = [*prefix, *(arg.replace("{pool}", str(pool)) for arg in rest)]
    check(args, tmp_path_factory.getbasetemp())


@pytest.mark.parametrize(
    "args",
    [
        ["monitor", "score", "{pool}/surrogate.jsonl", "--scorer", "rules"],
        ["guard", "replay", "{pool}/surrogate.jsonl", "--json"],
        ["monitor", "score", "{pool}/chat.jsonl", "--scorer", "rules"],
    ],
)
def test_transcripts_with_bad_text_are_scored_and_printed(pool, tmp_path, args):
    code, stdout, _ = check([a.replace("{pool}", str(pool)) for a in args], tmp_path, codes=(0,))
    for line in stdout.splitlines():
        json.loads(line)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["guard", "check", "--tool", "Write", "--args", '{"file_path": [1]}'], "not text"),
        (
            ["guard", "check", "--tool", "apply_patch", "--args", '{"command": null}'],
            "patch argument",
        ),
    ],
)
def test_guard_check_refuses_arguments_it_cannot_read(tmp_path, args, needle):
    code, stdout, stderr = check(args, tmp_path, codes=(2,))
    assert needle in stdout + stderr
