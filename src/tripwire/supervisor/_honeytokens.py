"""Watch the planted decoys with inotify: any open, read or change of one trips.

inotify watches the inode, so a read through the sandbox's bind mount, by any program
and without any shell, is seen: this is the check the shim cannot be bypassed around.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from inotify_simple import INotify, flags

from ._decoys import PlantedDecoy

__all__ = ["DecoyWatch", "InodeWatch"]

T = TypeVar("T")

logger = logging.getLogger(__name__)

_MASK = (
    flags.OPEN | flags.ACCESS | flags.MODIFY | flags.ATTRIB | flags.DELETE_SELF | flags.MOVE_SELF
)


def _what(mask: int) -> str:
    if mask & (flags.MODIFY | flags.ATTRIB):
        return "changed"
    if mask & (flags.DELETE_SELF | flags.MOVE_SELF):
        return "moved or deleted"
    return "opened"


class InodeWatch(Generic[T]):
    """Calls `touched(item, what)` the first time an event in `mask` hits each file.

    Args:
        files: `{host path: item}` to watch.
        mask: inotify events that count.
        touched: Called in the event loop with the item and `opened`/`changed`/...
    """

    def __init__(self, files: dict[str, T], mask: int, touched: Callable[[T, str], None]) -> None:
        self._files = dict(files)
        self._mask = mask
        self._touched = touched
        self._inotify: INotify | None = None
        self._by_wd: dict[int, str] = {}
        self._tripped: set[str] = set()

    def start(self) -> None:
        """Begin watching (before the agent starts, so no touch is missed)."""
        if not self._files:
            return
        self._inotify = INotify(nonblocking=True)
        for path in list(self._files):
            self.add(path, self._files[path])
        asyncio.get_running_loop().add_reader(self._inotify.fileno(), self._read)

    def add(self, path: str, item: T) -> None:
        """Watch one more file (no-op before `start`, or if it cannot be watched)."""
        self._files[path] = item
        if self._inotify is None:
            return
        with contextlib.suppress(OSError):  # gone already, or out of inotify watches
            self._by_wd[self._inotify.add_watch(path, self._mask | flags.DONT_FOLLOW)] = path

    def poll(self) -> None:
        """Handle the touches already queued, now rather than on the loop's next turn.

        Called when a command has ended, so a read it made is charged to it before its
        caller sees the result.
        """
        if self._inotify is not None:
            self._read()

    def _read(self) -> None:
        assert self._inotify is not None
        try:
            events = self._inotify.read(timeout=0)
        except OSError:  # pragma: no cover - the kernel refused a read of its own queue
            logger.exception("reading inotify events failed")
            return
        for event in events:
            if event.mask & flags.Q_OVERFLOW:
                # Events were lost: assume the worst about every file.
                for each in list(self._files):
                    self._trip(each, "touched (inotify queue overflowed)")
                continue
            hit = self._by_wd.get(event.wd)
            if hit is not None and event.mask & self._mask:
                self._trip(hit, _what(event.mask))

    def _trip(self, path: str, what: str) -> None:
        if path in self._tripped:
            return
        self._tripped.add(path)
        self._touched(self._files[path], what)

    def close(self) -> None:
        """Stop watching."""
        if self._inotify is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._inotify.fileno())
        self._inotify.close()
        self._inotify = None


class DecoyWatch(InodeWatch[PlantedDecoy]):
    """Any open, read or change of a decoy: `touched(decoy, what)`, once per decoy."""

    def __init__(
        self, decoys: list[PlantedDecoy], touched: Callable[[PlantedDecoy, str], None]
    ) -> None:
        super().__init__({str(d.host): d for d in decoys}, _MASK, touched)
