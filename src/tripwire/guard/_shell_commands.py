"""Every program the shell analyser knows, by base name.

A handler takes the command (`Cmd`) and emits its effects; programs not listed only get
their `exec` effect. The handlers live by theme in `_shell_files` (files), `_shell_net`
(other hosts) and `_shell_exec` (wrappers, interpreters, builtins, processes, SQL).
"""

from __future__ import annotations

from collections.abc import Callable

from ._shell_exec import EXEC_HANDLERS
from ._shell_files import FILE_HANDLERS
from ._shell_net import NET_HANDLERS
from ._shell_state import Cmd, Stream

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Callable[[Cmd], Stream | None]] = {
    **FILE_HANDLERS,
    **NET_HANDLERS,
    **EXEC_HANDLERS,
}
"""Program base name to handler."""
