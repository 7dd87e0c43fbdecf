"""The supervisor's side of the shell shim: read a request, answer, hear the end.

The shim (`shim/shell_shim.c`) connects to a unix socket that lies in a read-only mount
inside the sandbox, so the agent can neither replace the socket nor answer in the
supervisor's place; every connection is one shell the agent is starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shlex
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["ShellRequest", "ShimServer", "Verdict", "read_request"]

logger = logging.getLogger(__name__)

_MAGIC = b"TWS1"
_MAX_FIELDS = 65_536
_MAX_BYTES = 8 * 1024 * 1024  # argv and environment share ARG_MAX (2 MiB here)
_REQUEST_TIMEOUT = 10.0
_MAX_CONNECTIONS = 1024  # shells running at once; past it new ones are refused, not queued

ShellMode = Literal["", "session", "line"]


class ProtocolError(Exception):
    """A request the supervisor cannot read: refused, never run."""


@dataclass(frozen=True)
class ShellRequest:
    """One shell the agent is starting, as the shim saw it."""

    shell: str
    """The shell binary's name (`bash`, `dash`)."""
    cwd: str
    """Its working directory inside the sandbox."""
    pid: int
    """The shim's host pid, as the kernel reports the peer (the pid the request claims
    only where the kernel cannot tell)."""
    mode: ShellMode
    """Empty: a shell with its script in the arguments (`-c`, a file); `session`: a shell
    reading commands from a terminal or pipe, each then asked about as a `line`;
    `line`: one command line of a session, about to run."""
    line: str
    """The command line, for `line`."""
    argv: tuple[str, ...]
    """The shell's arguments after its name."""

    @property
    def command(self) -> str:
        """What the guard checks: the session's command line, or the shell's own."""
        if self.mode == "line":
            return self.line
        name = "bash" if "bash" in self.shell else "sh"
        return shlex.join([name, *self.argv])


@dataclass(frozen=True)
class Verdict:
    """The supervisor's answer to one request."""

    action: Literal["allow", "deny", "kill"]
    """`allow` runs the shell; `deny` refuses it; `kill` refuses it and the run stops."""
    reason: str = ""
    """Shown to the agent on stderr when refused."""
    line_by_line: bool = False
    """Allowed, but run command by command under the guard (the command sources a file
    whose content the guard has not seen)."""


async def read_request(reader: asyncio.StreamReader) -> ShellRequest:
    """Parse one request (see the wire format in `shell_shim.c`).

    Raises:
        ProtocolError: Wrong magic, too many or too large fields, or a cut-off request.
    """
    try:
        head = await reader.readexactly(8)
        if head[:4] != _MAGIC:
            raise ProtocolError("not a tripwire shim request")
        (count,) = struct.unpack("<I", head[4:])
        if not 5 <= count <= _MAX_FIELDS:
            raise ProtocolError(f"{count} fields")
        total = 0
        fields: list[str] = []
        for _ in range(count):
            (size,) = struct.unpack("<I", await reader.readexactly(4))
            total += size
            if total > _MAX_BYTES:
                raise ProtocolError("request too large")
            raw = await reader.readexactly(size) if size else b""
            # Bytes that are not UTF-8 are kept visible (\xe9) and stay loggable.
            fields.append(raw.decode("utf-8", errors="backslashreplace"))
    except asyncio.IncompleteReadError as ex:
        raise ProtocolError("request cut off") from ex
    shell, cwd, pid, mode, line, *argv = fields
    if mode not in ("", "session", "line"):
        raise ProtocolError(f"unknown mode {mode!r}")
    try:
        pid_number = int(pid)
    except ValueError as ex:
        raise ProtocolError(f"bad pid {pid!r}") from ex
    return ShellRequest(
        shell=shell,
        cwd=cwd or "/",
        pid=pid_number,
        mode=mode,  # type: ignore[arg-type]
        line=line,
        argv=tuple(argv),
    )


def _peer_pid(writer: asyncio.StreamWriter) -> int | None:
    sock = writer.get_extra_info("socket")
    if sock is None:
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    pid, _, _ = struct.unpack("3i", raw)
    return pid or None


Decide = Callable[[ShellRequest], Awaitable[Verdict]]
Finished = Callable[[ShellRequest, int | None], Awaitable[None]]


class ShimServer:
    """Answers the shims of one sandbox.

    Args:
        decide: Called for every request; its verdict goes back to the shim.
        finished: Called when an allowed shell ends, with its status (None when the shim
            vanished without saying, e.g. killed); the shim waits for it to return.
        refused: Called with the reason when a request cannot be read (it is refused).
    """

    def __init__(
        self,
        decide: Decide,
        finished: Finished,
        refused: Callable[[str], None],
    ) -> None:
        self._decide = decide
        self._finished = finished
        self._refused = refused
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, socket_path: Path) -> None:
        """Listen on `socket_path` (mode 0666: the agent may run as another uid)."""
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path))
        os.chmod(socket_path, 0o666)

    async def close(self) -> None:
        """Stop listening and end the open conversations."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._tasks) >= _MAX_CONNECTIONS:
            # A flood of connections must not exhaust the supervisor's descriptors (the
            # kill switch and the audit log need them): refuse at once.
            self._refused("too many shells at once")
            with contextlib.suppress(ConnectionError):
                writer.write(b"D too many shells at once; wait for some to finish\n")
                await writer.drain()
            writer.close()
            return
        if task is not None:
            self._tasks.add(task)
        try:
            await self._conversation(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # never let one shim's failure stop the server
            logger.exception("shim conversation failed")
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _conversation(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            request = await asyncio.wait_for(read_request(reader), _REQUEST_TIMEOUT)
            # The pid the kernel vouches for (in our pid namespace), not the one claimed:
            # a request sent straight to the socket cannot pose as another shell.
            peer = _peer_pid(writer)
            if peer is not None:
                request = dataclasses.replace(request, pid=peer)
        except (ProtocolError, TimeoutError) as ex:
            reason = f"unreadable shim request ({ex or 'timed out'})"
            self._refused(reason)
            writer.write(f"D {reason}\n".encode())
            await writer.drain()
            return
        verdict = await self._decide(request)
        letter = {"allow": "A", "deny": "D", "kill": "K"}[verdict.action]
        if verdict.action == "allow" and verdict.line_by_line:
            letter = "S"
        reason = " ".join(verdict.reason.split())[:3000]
        writer.write(f"{letter} {reason}\n".encode() if letter in "DK" else f"{letter}\n".encode())
        await writer.drain()
        if letter != "A":
            return  # refused, or a line-by-line shell: it reports no end
        line = await reader.readline()
        status: int | None = None
        if line.startswith(b"E "):
            with contextlib.suppress(ValueError):
                status = int(line[2:].strip())
        await self._finished(request, status)
        if line:
            writer.write(b"ok\n")
            await writer.drain()
