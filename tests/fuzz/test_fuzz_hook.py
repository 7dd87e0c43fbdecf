"""`tripwire hook` stdin: any bytes, and real events of the wrong shape.

The contract (src/tripwire/guard/_hook.py): `run_hook` never raises; input it cannot
read is refused in the agent's format (exit 2 with one line on stderr; Cursor: exit
0 with `permission: deny`), and never reaches the guard. A dangerous call whose
arguments arrive retyped (a number, null, an object where text was) is still refused.
"""

# ruff: noqa: E501

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fuzz_budget import budget
from hypothesis import example, given
from hypothesis import strategies as st

import tripwire
from tripwire.guard._hook import run_hook
from tripwire.guard._hooks import AGENTS

EVENTS = Path(__file__).parents[1] / "guard" / "data" / "hook_events"
SRC = Path(tripwire.__file__).resolve().parents[1]


def _agent_of(name: str) -> str:
    return name.split("_", 1)[0]


class RecordingGuard:
    def __init__(self) -> None:
        self.calls: list[Any] = []

    def check(self, call: Any) -> Any:
        from tripwire.guard import Decision

        self.calls.append(call)
        return Decision(action="allow", rule="fake", reason="fake")


def refused(answer: Any, agent: str) -> bool:
    """Whether the answer refuses the call, checking it is well formed either way."""
    assert answer.exit_code in (0, 2), answer
    if answer.exit_code == 2:
        assert answer.stdout == ""
        lines = answer.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("tripwire"), answer.stderr
        return True
    [line] = answer.stdout.splitlines()
    body = json.loads(line)
    assert isinstance(body, dict)
    if agent == "cursor":
        return body.get("permission") == "deny"
    if agent == "gemini":
        return body.get("decision") == "deny"
    output = body.get("hookSpecificOutput") or {}
    return output.get("permissionDecision") in ("deny", "ask") or body.get("continue") is False


def answer(raw: bytes, agent: str, guard: Any = None) -> Any:
    kwargs: dict[str, Any] = {}
    if guard is not None:
        kwargs["load_guard"] = lambda _path: guard
    return run_hook(raw, agent=agent, policy_path=None, audit_path=None, timeout=10, **kwargs)


_junk = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"   \n",
            b"null",
            b"[]",
            b'"x"',
            b"1e999",
            b"{}",
            b'{"a": ' * 50_000,
            b"\xef\xbb\xbf{}",
            b'{"hook_event_name": "PreToolUse"}',
            b'"\\ud800"',
            b"\x00" * 8,
            b'{"tool_input": {}}',
        ]  # fmt: skip
    ),
)


@budget(150)
@given(raw=_junk, agent=st.sampled_from(AGENTS))
@example(raw=b'{"a": ' * 50_000, agent="claude")
@example(raw=b"\xff\xfe\x00\x00", agent="cursor")
def test_bytes_that_are_no_event_are_refused_without_reaching_the_guard(raw, agent):
    guard = RecordingGuard()
    assert refused(answer(raw, agent, guard), agent)
    assert guard.calls == []


def _points(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _points(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _points(item, (*at, index))
    return found


def _mutated(document: Any, at: tuple[Any, ...], new: Any, delete: bool = False) -> Any:
    if not at:
        return new
    copied = copy.copy(document)
    if len(at) == 1 and delete:
        del copied[at[0]]
    else:
        copied[at[0]] = _mutated(copied[at[0]], at[1:], new, delete)
    return copied


_ALL = sorted(EVENTS.glob("*.json"))
_any_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@budget(150)
@given(data=st.data(), source=st.sampled_from(_ALL))
def test_a_reshaped_event_gets_a_well_formed_answer(data, source):
    """One value anywhere changed or deleted: always an answer, never a crash."""
    event = json.loads(source.read_text())
    at = data.draw(st.sampled_from(_points(event)))
    delete = bool(at) and data.draw(st.booleans())
    reshaped = _mutated(event, at, data.draw(_any_value), delete)
    agent = _agent_of(source.name)
    refused(answer(json.dumps(reshaped).encode(), agent), agent)


def _dangerous() -> list[Path]:
    return [
        p for p in _ALL if refused(answer(p.read_bytes(), _agent_of(p.name)), _agent_of(p.name))
    ]


DANGEROUS = _dangerous()


def _argument_points(event: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Where a call's own arguments sit in an event (the fields the guard reads)."""
    points = []
    for key in ("tool_input", "command", "file_path"):
        if key in event:
            points += (
                [(key, *p) for p in _points(event[key])]
                if isinstance(event[key], dict)
                else [(key,)]
            )
    return [p for p in points if len(p) >= 1]


def test_the_shipped_events_hold_dangerous_calls_of_every_agent():
    assert {_agent_of(p.name) for p in DANGEROUS} == set(AGENTS)


@budget(150)
@given(data=st.data(), source=st.sampled_from(DANGEROUS))
@example(data=None, source=EVENTS / "claude_pre_write_oversight.json")
def test_a_dangerous_call_with_retyped_arguments_is_still_refused(data, source):
    """A number, null, boolean or object where the agent sent text: still refused.

    The guard cannot read a retyped command or path (unparseable: refused), and a
    retyped side argument (a Bash `description`) leaves what is dangerous in place.
    """
    event = json.loads(source.read_text())
    agent = _agent_of(source.name)
    if data is None:  # the regression: a Write whose path is null was allowed
        cases = [("tool_input", "file_path")]
        values: list[Any] = [None, 7, {"path": "x"}, ["/home/dev/shop/config/oversight.yaml"]]
    else:
        points = [p for p in _argument_points(event) if isinstance(_get(event, p), str)]
        cases = [data.draw(st.sampled_from(points))]
        values = [
            data.draw(
                st.one_of(
                    st.none(),
                    st.booleans(),
                    st.integers(),
                    st.floats(),
                    st.dictionaries(st.text(max_size=3), st.integers(), min_size=1, max_size=2),
                )
            )
        ]
    for at in cases:
        for value in values:
            reshaped = _mutated(event, at, value)
            assert refused(answer(json.dumps(reshaped).encode(), agent), agent), (at, value)


def _get(document: Any, at: tuple[Any, ...]) -> Any:
    for part in at:
        document = document[part]
    return document


# The command itself, as an agent runs it: a process, stdin, exit code.


@pytest.mark.parametrize(
    ("agent", "raw"),
    [
        ("claude", b"\xff\xfe\x00garbage"),
        ("codex", b'{"hook_event_name": "PreToolUse", "tool_name": 5}'),
        ("gemini", b""),
        ("cursor", b"[1, 2, 3]"),
    ],
)
def test_the_hook_command_refuses_bad_stdin(tmp_path, agent, raw):
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TRIPWIRE_HOOK_AUDIT": str(tmp_path / "audit.jsonl"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tripwire", "hook", "--agent", agent],
        input=raw,
        capture_output=True,
        timeout=60,
        env=env,
    )
    from tripwire.guard._hook import HookAnswer

    answer = HookAnswer(result.returncode, result.stdout.decode(), result.stderr.decode())
    assert refused(answer, agent), answer
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "inf"],  # overflowed the watchdog's timer: a traceback, exit 1
        ["--timeout", "1e308"],
        ["--timeout", "nan"],
        ["--timeout", "abc"],
        ["--agent", "bogus"],
        ["--policy", "{tmp}"],
        ["--policy", "{tmp}/garbage.yaml"],
        ["--audit", "{tmp}"],
        ["--max-event-bytes", "-1"],
    ],
)
def test_the_hook_command_refuses_bad_arguments_in_one_line(tmp_path, args):
    (tmp_path / "garbage.yaml").write_bytes(b"\xff\xfe rules: [")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "TRIPWIRE_HOOK_AUDIT": str(tmp_path / "audit.jsonl"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tripwire", "hook", *argv],
        input=(EVENTS / "claude_pre_read.json").read_bytes(),
        capture_output=True,
        timeout=60,
        env=env,
    )
    # Exit 1 (or any code but 0 and 2) lets Claude Code run the call: never that.
    assert result.returncode == 2, result
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tripwire"), result.stderr
