"""Progress of eval batches: live bars on a terminal, a plain line per batch in a log.

Fed by the scorer's progress sink. Everything goes to stderr (`status_console`), so
tables and `--json` output on stdout stay clean. A redrawn bar in a CI log or a file
is a wall of repeated lines: without a terminal on stderr, or under `--json`, each
batch prints one line when it ends instead; under `--quiet`, nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from tripwire._suite import EvalBatch

from ._console import current_mode, status_console

__all__ = ["BatchProgress", "batch_progress", "make_progress"]


def make_progress() -> Progress:
    """A live progress display on stderr (disabled unless stderr is a terminal)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=status_console,
        disable=not current_mode().live,
    )


class BatchProgress:
    """Schemed / clean / error counts per eval batch, as bars or as lines.

    Args:
        progress: The live display, or None to print a line as each batch ends.
    """

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, Counter[str]] = {}
        self.started: dict[str, float] = {}
        self.finished = 0

    def add(self, batch: EvalBatch) -> None:
        """Show a bar for a batch before it starts."""
        self.counts[batch.label] = Counter()
        if self.progress is not None:
            self.tasks[batch.label] = self.progress.add_task(
                batch.label, total=batch.total, status="waiting"
            )

    def start(self, batch: EvalBatch) -> Callable[[str], None]:
        """Mark a batch as running; return the per-sample callback."""
        counts = self.counts[batch.label]
        self.started[batch.label] = time.monotonic()
        progress = self.progress
        task = self.tasks.get(batch.label)
        if progress is not None and task is not None:
            progress.update(task, status="starting")

        def on_sample(outcome: str) -> None:
            counts[outcome] += 1
            if progress is not None and task is not None:
                progress.update(task, advance=1, status=_status(counts))

        return on_sample

    def end(self, batch: EvalBatch) -> None:
        """Fill the bar, or print the batch's line.

        Samples that failed before scoring never called back: the bar is filled anyway.
        """
        counts = self.counts[batch.label]
        self.finished += 1
        if self.progress is not None:
            self.progress.update(
                self.tasks[batch.label], completed=batch.total, status=_status(counts) + " done"
            )
            return
        seconds = time.monotonic() - self.started.get(batch.label, time.monotonic())
        status_console.print(
            f"[{self.finished}/{len(self.counts)}] {escape(batch.label)}: {_status(counts)} "
            f"({sum(counts.values())}/{batch.total} scored, {seconds:.0f} s)",
            highlight=False,
            soft_wrap=True,
        )


@contextmanager
def batch_progress(batches: Sequence[EvalBatch]) -> Iterator[BatchProgress]:
    """Progress for `batches`, live or as lines as the mode and stderr allow."""
    if not current_mode().live:
        bars = BatchProgress(None)
        for batch in batches:
            bars.add(batch)
        yield bars
        return
    with make_progress() as progress:
        bars = BatchProgress(progress)
        for batch in batches:
            bars.add(batch)
        yield bars


def _status(counts: Counter[str]) -> str:
    return (
        f"[red]{counts['schemed']} schemed[/red] · {counts['clean']} clean · "
        f"[yellow]{counts['error']} error[/yellow]"
    )
