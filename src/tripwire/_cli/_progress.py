"""Rich progress bars fed by the scorer's progress sink."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from rich.progress import Progress, TaskID

from tripwire._suite import EvalBatch

__all__ = ["BatchProgress"]


class BatchProgress:
    """One bar per eval batch, showing schemed / clean / error counts as they come."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, Counter[str]] = {}

    def add(self, batch: EvalBatch) -> None:
        """Show a bar for a batch before it starts."""
        self.tasks[batch.label] = self.progress.add_task(
            batch.label, total=batch.total, status="waiting"
        )
        self.counts[batch.label] = Counter()

    def start(self, batch: EvalBatch) -> Callable[[str], None]:
        """Mark a batch as running; return the per-sample callback."""
        task = self.tasks[batch.label]
        counts = self.counts[batch.label]
        self.progress.update(task, status="starting")

        def on_sample(outcome: str) -> None:
            counts[outcome] += 1
            self.progress.update(task, advance=1, status=_status(counts))

        return on_sample

    def end(self, batch: EvalBatch) -> None:
        """Fill the bar: samples that failed before scoring never called back."""
        task = self.tasks[batch.label]
        self.progress.update(
            task, completed=batch.total, status=_status(self.counts[batch.label]) + " done"
        )


def _status(counts: Counter[str]) -> str:
    return (
        f"[red]{counts['schemed']} schemed[/red] · {counts['clean']} clean · "
        f"[yellow]{counts['error']} error[/yellow]"
    )
