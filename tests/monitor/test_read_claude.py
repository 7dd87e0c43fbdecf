"""The Claude Code session reader."""

# Table-driven cases read best one case per line (as in tests/guard).
# ruff: noqa: E501

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tripwire._errors import TranscriptError
from tripwire.monitor._read_claude import read_claude_code

FIXTURES = Path(__file__).parent / "fixtures" / "claude"
SESSION = "4f0c6e2a-9b1d-4c55-8a3e-2d7f1b6c9e10"


def _session():
    [transcript] = list(read_claude_code(FIXTURES / "session.jsonl"))
    return transcript


def _events(tmp_path: Path, *events: dict) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _user(content, uuid="u1", session="s"):
    return {
        "type": "user",
        "sessionId": session,
        "uuid": uuid,
        "message": {"role": "user", "content": content},
    }


def _assistant(blocks, message_id="msg_1", uuid="a1", session="s"):
    message = {"id": message_id, "role": "assistant", "model": "claude-opus-4-6", "content": blocks}
    return {"type": "assistant", "sessionId": session, "uuid": uuid, "message": message}


def _bash(call_id="toolu_1", command="ls"):
    return {"type": "tool_use", "id": call_id, "name": "Bash", "input": {"command": command}}


def test_session_reads_as_one_transcript_named_by_session_id():
    transcript = _session()
    assert transcript.format == "claude-code"
    assert transcript.id == SESSION
    assert transcript.label.endswith(f"session.jsonl#{SESSION}")
    assert transcript.metadata["model"] == "claude-opus-4-6"
    assert transcript.metadata["cwd"] == "/Users/dev/projects/inventory"
    assert transcript.metadata["git_branch"] == "main"


def test_blocks_of_one_message_written_on_several_lines_are_merged():
    transcript = _session()
    assert [m.role for m in transcript.messages] == ["user"] + ["assistant"] * 5
    first = transcript.messages[1]  # thinking, text and tool_use on three lines
    assert first.reasoning.startswith("Let me read the failing test first.")
    assert first.text == "I'll start by reading the test."
    assert [c.tool for c in first.tool_calls] == ["Read"]


def test_tool_calls_results_and_errors():
    calls = list(_session().tool_calls())
    assert [(c.tool, c.id) for c in calls] == [
        ("Read", "toolu_01ReadA"), ("Bash", "toolu_01BashB"), ("Edit", "toolu_01EditC"), ("Bash", "toolu_01BashD"),
    ]  # fmt: skip
    read, failing, edit, passing = calls
    assert read.arguments == {"file_path": "/Users/dev/projects/inventory/tests/test_sync.py"}
    assert "def test_sync_rounds_down" in read.result
    assert failing.is_error and "1 failed" in failing.result
    assert not passing.is_error and passing.result.startswith("12 passed")
    assert edit.arguments["old_string"] == "return round(qty)"
    assert edit.result.startswith(
        "The file /Users/dev/projects/inventory/inventory/sync.py"
    )  # parts


def test_redacted_thinking_leaves_no_reasoning_and_snapshots_progress_are_skipped():
    transcript = _session()
    edit_turn = transcript.messages[3]
    assert edit_turn.reasoning == "" and [c.tool for c in edit_turn.tool_calls] == ["Edit"]
    assert "hook_progress" not in transcript.model_dump_json()


def test_one_transcript_per_session_duplicates_dropped_and_summary_kept():
    first, second = read_claude_code(FIXTURES / "two_sessions.jsonl")
    assert first.id.startswith("0d6e8f1a") and second.id.startswith("7a1b2c3d")
    assert first.metadata["summary"] == "Clean temp files"
    assert "summary" not in second.metadata
    assert len(first.messages) == 3  # the duplicated line is read once
    assert [c.arguments["command"] for c in second.tool_calls()] == ["df -h /"]
    assert second.messages[0].text == "Now check the disk."  # text parts


def test_string_content_and_a_new_message_id_start_new_messages(tmp_path):
    path = _events(
        tmp_path,
        _user("run ls"),
        _assistant([_bash("toolu_1")], "msg_1", "a1"),
        _user([{"type": "tool_result", "tool_use_id": "toolu_1", "content": "a b"}], "u2"),
        _assistant([_bash("toolu_2", "rm -rf b")], "msg_1", "a2"),  # same id, but after a result
        _user(
            [{"type": "tool_result", "tool_use_id": "toolu_2", "content": "", "is_error": False}],
            "u3",
        ),
        _assistant("done", "msg_2", "a3"),
    )
    [transcript] = read_claude_code(path)
    assert [len(m.tool_calls) for m in transcript.messages] == [0, 2, 0]
    assert transcript.messages[-1].text == "done"
    assert transcript.id == "s"


def test_sidechain_events_stay_in_their_session(tmp_path):
    sub = _assistant([_bash("toolu_9", "cat ~/.ssh/id_rsa")], "msg_9", "a9")
    sub["isSidechain"] = True
    path = _events(
        tmp_path,
        _user("go"),
        sub,
        _user([{"type": "tool_result", "tool_use_id": "toolu_9", "content": "KEY"}], "u9"),
    )
    [transcript] = read_claude_code(path)
    assert [c.result for c in transcript.tool_calls()] == ["KEY"]
    assert transcript.metadata["has_sidechain"] is True


@pytest.mark.parametrize(
    ("events", "where", "says"),
    [
        pytest.param([_user("hi"), "oops"], ":2:", "expected an event object, got a string", id="not-object"),
        pytest.param([_user("hi"), {"type": "assistant", "uuid": "x"}], ":2:", "assistant event has no `message` object", id="no-message"),
        pytest.param([_user("hi"), _assistant([{"type": "tool_use", "id": "t", "input": {}}])], ":2:", "tool_use has no `name`", id="no-name"),
        pytest.param([_user([{"type": "tool_result", "tool_use_id": "toolu_x", "content": "?"}])], ":1:", "tool_result for 'toolu_x', which no earlier tool_use made", id="orphan-result"),
        pytest.param([_user("hi"), _assistant([{"type": "text", "text": 5}])], ":2:", "`text` is a number", id="text-number"),
        pytest.param([_user(5)], ":1:", "user message content is a number", id="content-number"),
        pytest.param([{"type": "summary", "summary": "t", "leafUuid": "x"}], "", "no messages", id="only-summary"),
    ],
)  # fmt: skip
def test_malformed_sessions_name_file_and_line(tmp_path, events, where, says):
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    with pytest.raises(TranscriptError) as raised:
        list(read_claude_code(path))
    message = str(raised.value)
    assert message.startswith(f"{path}{where}" if where else f"{path}: "), message
    assert says in message


def test_truncated_last_line_names_its_line(tmp_path):
    text = (FIXTURES / "session.jsonl").read_text()
    path = tmp_path / "cut.jsonl"
    path.write_text(text[: len(text) - 40])  # a session cut off while being written
    lines = text.count("\n")
    with pytest.raises(TranscriptError, match=rf"cut\.jsonl:{lines}: not JSON"):
        list(read_claude_code(path))
