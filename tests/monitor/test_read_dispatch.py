"""read_transcripts / iter_transcripts: files, directories, sniffing and failures."""

# Table-driven cases read best one case per line (as in tests/guard).
# ruff: noqa: E501

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tripwire._errors import ConfigError
from tripwire.monitor._read import (
    ReadFailure,
    iter_transcripts,
    read_transcripts,
    sniff_format,
)
from tripwire.monitor._transcript import Transcript

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A run directory: the fixtures nested two levels deep, plus unrelated files."""
    root = tmp_path / "runs"
    shutil.copytree(FIXTURES, root / "agents")
    (root / "agents" / "package.json").write_text('{\n  "name": "x",\n  "type": "module"\n}\n')
    (root / "notes.txt").write_text("not a transcript")
    (root / "settings.json").write_text('{"theme": "dark"}')
    (root / ".git").mkdir()
    (root / ".git" / "log.jsonl").write_text('{"role": "user", "content": "hidden"}\n')
    return root


def test_sniff_tells_formats_apart():
    assert sniff_format(FIXTURES / "claude" / "session.jsonl") == "claude-code"
    assert sniff_format(FIXTURES / "claude" / "two_sessions.jsonl") == "claude-code"
    for name in ("chat_request.json", "messages.jsonl", "conversations.jsonl",
                 "codex_rollout.jsonl", "responses.json", "legacy_function_call.json"):  # fmt: skip
        assert sniff_format(FIXTURES / "openai" / name) == "openai", name


def test_a_directory_is_read_recursively_and_unrelated_files_are_skipped(runs):
    report = read_transcripts([runs])
    assert report.failures == []
    formats = sorted({t.format for t in report.transcripts})
    assert formats == ["claude-code", "openai"]
    assert len(report.transcripts) == 3 + 6 + 2  # claude 1+2, openai 1+1+3+1+1+1 = 8
    sources = {Path(t.source).name for t in report.transcripts}
    assert "package.json" not in sources and "log.jsonl" not in sources
    assert all(t.source.startswith(str(runs)) for t in report.transcripts)


def test_one_bad_file_does_not_stop_the_others(runs):
    bad = runs / "agents" / "openai" / "zz_truncated.jsonl"
    bad.write_text('{"role": "user", "content": "x"}\n{"role": "assistant", "content": "y"\n')
    (runs / "empty.jsonl").write_text("")
    report = read_transcripts([runs, runs / "missing.jsonl"])
    assert len(report.transcripts) == 11
    assert [str(f) for f in report.failures] == [
        f"{runs / 'empty.jsonl'}: no messages (the file is empty)",  # top level first
        f"{bad}:2: not JSON (Expecting ',' delimiter at column 37)",
        f"{runs / 'missing.jsonl'}: no such file or directory",
    ]
    assert report.failures[1].line == 2 and report.failures[1].file == str(bad)
    assert report.failures[0].line is None


def test_a_named_file_that_is_no_transcript_is_reported(tmp_path):
    config = tmp_path / "settings.json"
    config.write_text('{"theme": "dark"}')
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    [first, second] = read_transcripts([config, binary]).failures
    assert first.file == str(config) and "needs a `role`" in first.message
    assert second.file == str(binary) and second.line == 1 and "not UTF-8" in second.message


def test_directory_with_no_transcripts_is_a_failure(tmp_path):
    (tmp_path / "README.md").write_text("hello")
    [failure] = read_transcripts([tmp_path]).failures
    assert failure.file == str(tmp_path) and "no transcripts" in failure.message


def test_the_same_file_twice_is_read_once(runs):
    session = runs / "agents" / "claude" / "session.jsonl"
    report = read_transcripts([session, runs / "agents" / "claude", session])
    assert len(report.transcripts) == 3


def test_format_forces_the_reader_and_an_unknown_format_is_a_usage_error(tmp_path):
    path = tmp_path / "log.txt"  # no telling extension
    path.write_text(json.dumps([{"role": "user", "content": "hi"}]))
    [transcript] = read_transcripts(path, format="openai").transcripts
    assert transcript.messages[0].text == "hi"
    report = read_transcripts([FIXTURES / "openai" / "chat_request.json"], format="claude-code")
    assert report.transcripts == [] and report.failures[0].line == 1  # not JSONL
    with pytest.raises(ConfigError, match="unknown transcript format 'csv'"):
        read_transcripts([tmp_path], format="csv")  # type: ignore[arg-type]


def test_iter_transcripts_streams_conversation_lines_and_reads_on_after_a_bad_one(tmp_path):
    path = tmp_path / "big.jsonl"
    conversation = {"messages": [{"role": "user", "content": "hi"}]}
    with path.open("w") as out:
        for n in range(1, 2001):
            out.write("{broken\n" if n == 7 else json.dumps(conversation) + "\n")
    stream = iter_transcripts([path])
    first = next(stream)  # yielded before the rest of the file is read
    assert isinstance(first, Transcript) and first.id == "line-1"
    rest = list(stream)
    failures = [item for item in rest if isinstance(item, ReadFailure)]
    assert [(f.line, f.message.split(" (")[0]) for f in failures] == [(7, "not JSON")]
    assert len(rest) - len(failures) == 1998


def test_a_huge_single_line_file_reads(tmp_path):
    output = "x" * 5_000_000
    messages = [
        {"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "bash", "arguments": '{"command": "cat big"}'}}]},
        {"role": "tool", "tool_call_id": "c", "content": output},
    ]  # fmt: skip
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(messages))
    [transcript] = read_transcripts([path]).transcripts
    assert len(next(transcript.tool_calls()).result or "") == 5_000_000


def test_a_reader_bug_becomes_a_failure_not_a_traceback(tmp_path, monkeypatch):
    from tripwire.monitor import _read

    def broken(path):
        raise KeyError("surprise")
        yield  # pragma: no cover

    monkeypatch.setitem(_read._READERS, "openai", broken)
    path = tmp_path / "a.json"
    path.write_text("[]")
    [failure] = read_transcripts([path]).failures
    assert "KeyError" in failure.message and "bug in tripwire" in failure.message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["role", "content", "type", "tool_calls", "function", "name", "arguments",
                         "id", "tool_call_id", "messages", "message", "sessionId", "uuid", "text",
                         "input", "tool_use_id", "call_id", "output", "payload", "reasoning"]),
        inner, max_size=5),
    max_leaves=20,
)  # fmt: skip
_values = st.one_of(
    st.binary(max_size=300),
    st.lists(_json, min_size=1, max_size=4).map(
        lambda rows: "\n".join(json.dumps(r) for r in rows).encode()
    ),
    _json.map(lambda v: json.dumps(v, indent=1).encode()),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_values, name=st.sampled_from(["t.json", "t.jsonl", "t.txt"]))
def test_fuzz_any_bytes_give_transcripts_or_failures(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    for forced in (None, "openai", "claude-code"):
        report = read_transcripts([path], format=forced)  # type: ignore[arg-type]
        for failure in report.failures:
            assert failure.file == str(path)
            assert "bug in tripwire" not in failure.message, failure
        assert report.transcripts or report.failures
