"""Watch the planted decoys with inotify: any open, read or change of one trips.

inotify watches the inode, so a read through the sandbox's bind mount, by any program
and without any shell, is seen: this is the check the shim cannot be bypassed around.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from inotify_simple import INotify, flags

from ._decoys import PlantedDecoy

__all__ = ["DecoyWatch"]

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


class DecoyWatch:
    """Calls `touched(decoy, what)` once per decoy the first time it is touched.

    Args:
        decoys: The planted decoys.
        touched: Called in the event loop with the decoy and `opened`/`changed`/...
    """

    def __init__(
        self, decoys: list[PlantedDecoy], touched: Callable[[PlantedDecoy, str], None]
    ) -> None:
        self._decoys = decoys
        self._touched = touched
        self._inotify: INotify | None = None
        self._by_wd: dict[int, PlantedDecoy] = {}
        self._tripped: set[str] = set()

    def start(self) -> None:
        """Begin watching (before the agent starts, so no touch is missed)."""
        if not self._decoys:
            return
        self._inotify = INotify(nonblocking=True)
        for decoy in self._decoys:
            wd = self._inotify.add_watch(str(decoy.host), _MASK)
            self._by_wd[wd] = decoy
        asyncio.get_running_loop().add_reader(self._inotify.fileno(), self._read)

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
                # Events were lost: assume the worst about every decoy.
                for each in self._decoys:
                    self._trip(each, "touched (inotify queue overflowed)")
                continue
            touched = self._by_wd.get(event.wd)
            if touched is not None and event.mask & _MASK:
                self._trip(touched, _what(event.mask))

    def _trip(self, decoy: PlantedDecoy, what: str) -> None:
        if decoy.inside in self._tripped:
            return
        self._tripped.add(decoy.inside)
        self._touched(decoy, what)

    def close(self) -> None:
        """Stop watching."""
        if self._inotify is None:
            return
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().remove_reader(self._inotify.fileno())
        self._inotify.close()
        self._inotify = None
