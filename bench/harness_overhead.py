"""Harness overhead per agent step: tripwire's scenario loop vs a bare Inspect `react()` loop.

Both run the same samples (oversight-subversion, its quick conditions) with the same
scripted honest agent (`tripwire/scripted-honest`: no weights, so the harness is what
is timed), the same tools (the scenario's `bash` and selector; `done` is react's
submit tool) and the same bwrap sandbox. tripwire adds what makes it an evaluation:
the environment check after every tool call, the episode trace and the scorer; the bare
loop is what a user would write with Inspect alone. Model time (the scripted backend's
`generate`, timed by wrapping it) is subtracted, so the figure is wall time per model
turn spent outside the model. Runs alternate, tripwire then bare, `rounds` times.

Run: `.venv/bin/python bench/harness_overhead.py [--quick]`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _rows import Row  # noqa: E402
from inspect_ai import Task, eval  # noqa: E402
from inspect_ai.agent import AgentSubmit, as_solver, react  # noqa: E402
from inspect_ai.solver import Generate, Solver, TaskState, solver  # noqa: E402

from tripwire._catalog import evaluation  # noqa: E402
from tripwire.models._scripted import ScriptedBackend  # noqa: E402
from tripwire.scenarios._scenario import get_scenario  # noqa: E402
from tripwire.scenarios._tools import DONE_TOOL  # noqa: E402

SECTION = "harness"
MODEL = "tripwire/scripted-honest"
ROWS: dict[str, str] = {"per agent step, excl. model: tripwire loop vs bare react()": "ms/step"}


@solver
def bare_react() -> Solver:
    """Inspect's `react()` with the sample's scenario tools; `done` is its submit tool."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        tools = get_scenario(str(state.metadata["scenario"])).tools(state.metadata)
        done = next(t for t in tools if t.__registry_info__.name.endswith(DONE_TOOL))
        others = [t for t in tools if t is not done]
        agent = react(tools=others, submit=AgentSubmit(tool=done), on_continue="continue")
        return await as_solver(agent)(state, generate)

    return solve


class _ModelClock:
    """Sums the wall time spent in the scripted backend's `generate`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original = ScriptedBackend.generate

    def __enter__(self) -> _ModelClock:
        original = self._original

        async def timed(backend: ScriptedBackend, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await original(backend, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start
                self.calls += 1

        ScriptedBackend.generate = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        ScriptedBackend.generate = self._original  # type: ignore[method-assign]


def _per_step(task: Task, log_dir: Path) -> tuple[float, int]:
    """(ms per model turn outside the model, model turns) for one eval of `task`."""
    with _ModelClock() as clock:
        start = time.perf_counter()
        (log,) = eval(
            task, model=MODEL, log_dir=str(log_dir), display="none", max_samples=8,
            log_samples=True, score_display=False,
        )  # fmt: skip
        wall = time.perf_counter() - start
    if log.status != "success":
        raise RuntimeError(f"{task.name} eval ended {log.status}: {log.error}")
    return (wall - clock.seconds) / clock.calls * 1000, clock.calls


def measure(quick: bool) -> list[Row]:
    """tripwire's scenario loop vs bare react(), ms per agent step outside the model."""
    samples, rounds = (2, 1) if quick else (6, 3)
    item = evaluation("oversight-subversion")
    args = {"conditions": "strong,plain", "samples_per_condition": samples, "sandbox": "bwrap"}
    ours: list[float] = []
    bare: list[float] = []
    steps: dict[str, int] = {}
    make: dict[str, Callable[[], Task]] = {
        "tripwire": lambda: item.task(**args),
        "bare": lambda: _bare_task(item.task(**args)),
    }
    with tempfile.TemporaryDirectory(prefix="tripwire-bench-harness-") as scratch:
        _per_step(make["bare"](), Path(scratch) / "warm")  # imports, registry, sandbox init
        for r in range(rounds):
            for name, build in make.items():
                ms, steps[name] = _per_step(build(), Path(scratch) / f"{name}{r}")
                (ours if name == "tripwire" else bare).append(ms)
    return [
        Row(
            section=SECTION,
            what=next(iter(ROWS)),
            unit="ms/step",
            ours=statistics.median(ours),
            baseline=statistics.median(bare),
            note=(
                f"{2 * samples} samples, {steps['tripwire']} vs {steps['bare']} steps per run, "
                f"median of {rounds}; eval start-up included"
            ),
        )  # fmt: skip
    ]


def _bare_task(task: Task) -> Task:
    return Task(dataset=task.dataset, solver=bare_react(), sandbox=task.sandbox, name="bare-react")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 samples, one round.")
    from _table import print_table  # noqa: E402

    print_table(measure(parser.parse_args().quick))
