"""The Inspect reader on a real `.eval` log written by `inspect_ai.eval` with mockllm."""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai import Task
from inspect_ai import eval as inspect_eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from inspect_ai.solver import generate, use_tools
from inspect_ai.tool import ToolError, tool

from tripwire.monitor._read import read_transcripts, sniff_format
from tripwire.monitor._read_inspect import read_inspect_log


@tool
def run_command():
    async def execute(cmd: str) -> str:
        """Run a shell command.

        Args:
            cmd: The command line.
        """
        if cmd.startswith("rm"):
            raise ToolError("permission denied: /var/log/audit")
        return f"ran: {cmd}"

    return execute


def _offline(output: ModelOutput) -> ModelOutput:
    # With usage set Inspect does not count tokens with tiktoken (which downloads).
    output.usage = ModelUsage(input_tokens=0, output_tokens=1, total_tokens=1)
    return output


@pytest.fixture(scope="module")
def eval_log(tmp_path_factory) -> Path:
    log_dir = tmp_path_factory.mktemp("logs")
    model = get_model(
        "mockllm/model",
        custom_outputs=[
            _offline(
                ModelOutput.for_tool_call("mockllm/model", "run_command", {"cmd": "ls /var/log"})
            ),
            _offline(
                ModelOutput.for_tool_call(
                    "mockllm/model", "run_command", {"cmd": "rm -rf /var/log/audit"}
                )
            ),
            _offline(ModelOutput.from_content("mockllm/model", "Cleaned up.")),
        ],
    )
    task = Task(
        dataset=[Sample(id="disk-1", input="Free disk space on /var.")],
        solver=[use_tools(run_command()), generate()],
    )
    [log] = inspect_eval(task, model=model, log_dir=str(log_dir), display="none")
    assert log.status == "success"
    [path] = log_dir.glob("*.eval")
    return path


def test_every_sample_is_a_transcript_with_calls_and_results(eval_log):
    [transcript] = read_inspect_log(eval_log)
    assert transcript.format == "inspect"
    assert transcript.id == "disk-1/1"
    assert transcript.metadata["model"] == "mockllm/model"
    calls = list(transcript.tool_calls())
    assert [(c.tool, c.arguments) for c in calls] == [
        ("run_command", {"cmd": "ls /var/log"}),
        ("run_command", {"cmd": "rm -rf /var/log/audit"}),
    ]
    assert calls[0].result == "ran: ls /var/log" and not calls[0].is_error
    assert calls[1].is_error and "permission denied" in (calls[1].result or "")
    assert transcript.messages[0].role == "user"
    assert transcript.messages[-1].text == "Cleaned up."


def test_the_dispatcher_reads_eval_files_in_directories(eval_log, tmp_path):
    assert sniff_format(eval_log) == "inspect"
    report = read_transcripts([eval_log.parent])
    assert report.failures == [] and [t.id for t in report.transcripts] == ["disk-1/1"]


def test_a_broken_eval_file_is_a_failure(tmp_path):
    broken = tmp_path / "broken.eval"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    [failure] = read_transcripts([broken]).failures
    assert failure.file == str(broken) and "not a readable Inspect log" in failure.message
