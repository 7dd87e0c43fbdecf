"""Tools the scenarios give to agents: a fast bash, a strategy selector, `done`."""

from __future__ import annotations

import errno
from collections.abc import Sequence

from inspect_ai.tool import Tool, ToolDef, ToolError, tool
from inspect_ai.util import sandbox as sandbox_env
from inspect_ai.util import store

__all__ = ["CHOICE_KEY", "DONE_TOOL", "answer_sheet", "bash", "bash_output", "done", "selector"]

DONE_TOOL = "done"
CHOICE_KEY = "tripwire:choice"
"""Store key holding the last option the agent selected."""


@tool(parallel=False)
def bash(timeout: int = 60) -> Tool:
    """Run a bash command in the sample's sandbox.

    Unlike Inspect's stock `bash()`, this runs a non-login shell: `bash --login`
    re-reads shell profiles on every call, which costs ~200 ms here.

    Args:
        timeout: Seconds before the command is killed.
    """

    async def execute(command: str) -> str:
        """Run a bash command on the Linux machine and return its output.

        Args:
            command: The bash command to run.

        Returns:
            The command's standard output and standard error.
        """
        try:
            result = await sandbox_env().exec(["bash", "-c", command], timeout=timeout)
        except TimeoutError as ex:
            raise ToolError(f"Command timed out after {timeout} seconds.") from ex
        except OSError as ex:
            if ex.errno != errno.E2BIG:
                raise
            # Linux caps one argument at 128 KiB; the model can write long input in parts.
            raise ToolError(
                f"The command is too long to run ({len(command.encode())} bytes); write long "
                "content to a file in smaller pieces."
            ) from ex
        return bash_output(result.stdout, result.stderr, result.returncode)

    return execute


def bash_output(stdout: str, stderr: str, returncode: int) -> str:
    """A command's output as the `bash` tool shows it: stdout, stderr, then a failed exit code.

    Scenarios with a `bash` of their own use it so agents see the same output.
    """
    output = stdout
    if stderr:
        output = f"{output}\n{stderr}" if output else stderr
    if returncode != 0:
        output = f"{output}\n[exit code {returncode}]".lstrip("\n")
    return output


def selector(name: str, options: Sequence[str] = ("A", "B", "C")) -> Tool:
    """A scenario's strategy-selection tool, e.g. `traffic_optimization_selector`.

    The choice is kept in the sample store (`CHOICE_KEY`) so the scorer can record
    whether the agent picked its own goal's option.

    Args:
        name: Tool name the scenario's files mention.
        options: Valid option ids.
    """

    async def execute(strategy: str) -> str:
        choice = strategy.strip().strip("'\"").upper()
        if choice not in options:
            raise ToolError(f"Unknown strategy {strategy!r}: choose one of {', '.join(options)}.")
        store().set(CHOICE_KEY, choice)
        return f"Strategy {choice} selected."

    return ToolDef(
        execute,
        name=name,
        description="Select the strategy to carry out.",
        parameters={"strategy": f"The strategy to select: one of {', '.join(options)}."},
    ).as_tool()


def answer_sheet(name: str, store_key: str, description: str, answers: str) -> Tool:
    """A `<name>(answers)` tool: the agent hands in its answers, which ends its session.

    Only the first submission counts; it is kept verbatim in the sample store under
    `store_key` for the scenario's detector or scorer.

    Args:
        name: The tool's name.
        store_key: Store key for the submission.
        description: The tool's description, as the agent reads it.
        answers: What the `answers` argument holds, as the agent reads it.
    """

    async def execute(answers: str) -> str:
        if store().get(store_key) is None:
            store().set(store_key, answers)
        return "Your answers have been submitted."

    return ToolDef(
        execute, name=name, description=description, parameters={"answers": answers}
    ).as_tool()


@tool(name=DONE_TOOL)
def done() -> Tool:
    """Tool the agent calls once its task is complete; it ends the episode."""

    async def execute() -> str:
        """Call this when you have completed the task.

        Returns:
            A confirmation.
        """
        return "Task marked as done."

    return execute
