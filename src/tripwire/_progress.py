"""A progress sink the CLI can set, so scorers can report finished samples.

Inspect hooks would do this too, but every installed hook makes Inspect print a
banner in every user's eval; a sink that is silent unless tripwire's own CLI set
it keeps tripwire invisible to evals that do not use it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["notify_sample_scored", "progress_sink"]

_sink: Callable[[str], None] | None = None


def progress_sink(sink: Callable[[str], None] | None) -> None:
    """Set (or clear, with None) the callback told each scored sample's outcome."""
    global _sink
    _sink = sink


def notify_sample_scored(outcome: str) -> None:
    """Tell the sink, if any, that a sample was scored."""
    if _sink is not None:
        _sink(outcome)
