"""Transcripts in every supported format, as valid JSON of the wrong shape.

tests/monitor/test_read_dispatch.py feeds the readers raw bytes; here each real
fixture (OpenAI chat, Responses and Codex, Claude Code, Inspect logs) has one value
anywhere replaced, deleted or retyped. Whatever comes out, every file gives
transcripts with messages or a one-line failure naming it; never a traceback, a
reader bug, nothing at all, or a transcript that cannot be written back out.
"""

# ruff: noqa: E501

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fuzz_budget import budget
from hypothesis import example, given
from hypothesis import strategies as st
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import tool

from tripwire.monitor._read import read_transcripts

FIXTURES = Path(__file__).parents[1] / "monitor" / "fixtures"
SOURCES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".json", ".jsonl"))


def _documents(path: Path) -> list[Any]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def _points(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _points(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _points(item, (*at, index))
    return found


_DELETE = object()
_values = st.one_of(
    st.sampled_from(
        [
            _DELETE,
            None,
            0,
            -1,
            1.5,
            True,
            "",
            "x",
            [],
            {},
            [None],
            {"a": 1},
            [[[]]],
            10**30,
            "\ud800",
            "\x00",
            "user",
            "assistant",
            "tool",
            "function_call",
            "message",
            "{not json",
            '{"command": 5}',
            "[1, 2]",
            {"type": "text"},
            [{"type": "tool_use"}],
        ]  # fmt: skip
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=6),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
        ),
        max_leaves=6,
    ),
)


def _mutated(document: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return {} if new is _DELETE else new
    copied = copy.copy(document)
    if len(at) == 1 and new is _DELETE:
        del copied[at[0]]
    else:
        copied[at[0]] = _mutated(copied[at[0]], at[1:], new)
    return copied


@st.composite
def mutated_files(draw: st.DrawFn, sources: list[Path]) -> tuple[str, str]:
    """(file name, text) of a fixture with one to three values changed."""
    source = draw(st.sampled_from(sources))
    documents = _documents(source)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(documents) - 1))
        at = draw(st.sampled_from(_points(documents[index])))
        documents[index] = _mutated(documents[index], at, draw(_values))
    if source.suffix == ".jsonl":
        text = "\n".join(json.dumps(d) for d in documents) + "\n"
    else:
        text = json.dumps(documents[0])
    return source.name, text


def check_read(path: Path) -> None:
    for forced in (None, "openai", "claude-code"):
        report = read_transcripts([path], format=forced)
        assert report.transcripts or report.failures, f"{path} gave nothing at all"
        for failure in report.failures:
            assert failure.file == str(path)
            assert "bug in tripwire" not in failure.message, failure
            assert "\n" not in str(failure), failure
        for transcript in report.transcripts:
            assert transcript.messages, f"{transcript.id}: a transcript without messages"
            transcript.model_dump_json()  # reports, corpora and scores write it out


@budget(250)
@given(mutated_files(SOURCES))
@example(("messages.jsonl", '{"role": "user", "content": "\\ud800"}\n'))
@example(
    (
        "chat_request.json",
        '{"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "\\udfff", "arguments": "{\\"cmd\\": \\"\\\\ud800\\"}"}}]}]}',
    )
)
@example(
    (
        "session.jsonl",
        '{"type": "assistant", "sessionId": "\\ud800", "message": {"role": "assistant", "content": [{"type": "text", "text": "hi"}]}}\n',
    )
)
def test_any_reshaped_openai_or_claude_transcript_reads_or_fails_on_one_line(tmp_path, name_text):
    name, text = name_text
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_read(path)


# Inspect logs: a real one (JSON format, so it can be reshaped), written once.


@tool
def run_command():
    async def execute(cmd: str) -> str:
        """Run a shell command.

        Args:
            cmd: The command line.
        """
        return f"ran: {cmd}"

    return execute


def _offline(output: ModelOutput) -> ModelOutput:
    output.usage = ModelUsage(input_tokens=0, output_tokens=1, total_tokens=1)
    return output


@pytest.fixture(scope="module")
def inspect_log(tmp_path_factory) -> dict[str, Any]:
    outputs = [
        _offline(ModelOutput.for_tool_call("mockllm/model", "run_command", {"cmd": "ls"})),
        _offline(ModelOutput.from_content("mockllm/model", "Done.")),
    ]
    task = Task(
        dataset=[Sample(id="s1", input="List the files.")],
        solver=[use_tools(run_command()), generate()],
    )
    log_dir = tmp_path_factory.mktemp("logs")
    [log] = inspect_eval(
        task,
        model=get_model("mockllm/model", custom_outputs=outputs),
        log_dir=str(log_dir),
        log_format="json",
        display="none",
    )
    assert log.status == "success"
    [path] = log_dir.glob("*.json")
    document: dict[str, Any] = json.loads(path.read_text())
    # Keep what the reader uses: the header and the samples' messages.
    for sample in document["samples"]:
        sample["events"] = []
    return document


def test_the_inspect_log_reads(tmp_path, inspect_log):
    path = tmp_path / "log.json"
    path.write_text(json.dumps(inspect_log))
    [transcript] = read_transcripts([path]).transcripts
    assert [m.role for m in transcript.messages] == ["user", "assistant", "assistant"]


@budget(120)
@given(data=st.data())
def test_any_reshaped_inspect_log_reads_or_fails_on_one_line(tmp_path_factory, inspect_log, data):
    document = inspect_log
    for _ in range(data.draw(st.integers(1, 2))):
        interesting = [
            p for p in _points(document) if p[:1] in (("samples",), ("eval",), ("status",))
        ]
        at = data.draw(st.sampled_from(interesting or [()]))
        document = _mutated(document, at, data.draw(_values))
    path = tmp_path_factory.mktemp("log") / "log.json"
    path.write_text(json.dumps(document), encoding="utf-8", errors="surrogatepass")
    report = read_transcripts([path])
    assert report.transcripts or report.failures, "an Inspect log gave nothing at all"
    for failure in report.failures:
        assert "\n" not in str(failure), failure
    for transcript in report.transcripts:
        transcript.model_dump_json()
