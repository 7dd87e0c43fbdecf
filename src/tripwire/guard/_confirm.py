"""Confirmation channels: how an `ask` decision reaches a human and comes back.

A channel gets a `ConfirmRequest` (the call, the rule and reason) and returns a
`ConfirmAnswer`. Every way of not getting a clear "yes" is a "no": no terminal, a
timeout, an answer file that does not parse, a cancelled wait.

- `TerminalChannel`: asks on the controlling terminal (`/dev/tty`), never stdout, which
  may be a protocol channel (a coding-agent hook's JSON).
- `FileQueueChannel`: writes `<id>.request.json` into a directory and waits for
  `<id>.answer.json`; operators' tools answer with `answer_request`.
- `AutoChannel`: answers at once; deny for unattended runs, approve for tests.

Put a file queue where the agent cannot write: anyone who can write an answer file can
approve.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import termios
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from .._atomic import write_atomic
from .._errors import ConfigError
from ._call import GuardCall
from ._decision import Decision

__all__ = [
    "AutoChannel",
    "ConfirmAnswer",
    "ConfirmChannel",
    "ConfirmRequest",
    "FileQueueChannel",
    "TerminalChannel",
    "answer_request",
    "channel_from_spec",
    "pending_requests",
]

logger = logging.getLogger(__name__)

TERMINAL_TIMEOUT = 120.0
"""Seconds a terminal prompt waits for y/N when the spec gives none."""

FILE_TIMEOUT = 600.0
"""Seconds a file queue waits for an answer when the spec gives none."""

_ID = re.compile(r"^[0-9a-f]{32}$")
_MAX_ANSWER_BYTES = 64_000
_ARCHIVE = "archive"


class ConfirmRequest(BaseModel):
    """A call waiting for a human's yes or no."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=_ID.pattern)
    """A fresh uuid4 in hex; names the request's files in a queue."""

    call: GuardCall
    """The call that would run if approved."""

    decision: Decision
    """The `ask` decision: its rule and reason are what the human is shown."""

    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    """When the request was made (UTC)."""


class ConfirmAnswer(BaseModel):
    """A human's (or a stand-in's) answer to a `ConfirmRequest`."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    """True only for a clear yes; every failure to get one is False."""

    by: str
    """Who or what answered: `terminal`, `file:<dir>` (with the operator, if named),
    `timeout`, `no-terminal`, `auto-deny`, `auto-approve (tests only)`."""

    note: str = ""
    """Why, in words for the audit log (the operator's note, or what went wrong)."""


@runtime_checkable
class ConfirmChannel(Protocol):
    """Anything that can put a `ConfirmRequest` to a human and return the answer."""

    async def confirm(self, request: ConfirmRequest) -> ConfirmAnswer:
        """Ask, wait, and answer; never raise for a missing or bad answer: deny instead."""
        ...


class AutoChannel:
    """Answers every request at once, without a human.

    Auto-deny is the default for unattended runs; auto-approve exists for tests and says
    so in `by`, so an audit log shows no human agreed.

    Args:
        approved: The answer to give (False unless testing).
    """

    def __init__(self, approved: bool = False) -> None:
        self.approved = approved

    async def confirm(self, request: ConfirmRequest) -> ConfirmAnswer:
        """Answer at once."""
        if self.approved:
            return ConfirmAnswer(
                approved=True, by="auto-approve (tests only)", note="approved without a human"
            )
        return ConfirmAnswer(
            approved=False,
            by="auto-deny",
            note="no human to ask in this run: calls that need confirmation are refused",
        )

    def __repr__(self) -> str:
        return f"AutoChannel(approved={self.approved})"


class TerminalChannel:
    """Asks y/N on the controlling terminal, not stdout.

    Typed-ahead input is discarded before asking, so a stray key press cannot answer.
    No terminal, end of input, a timeout or anything but `y`/`yes` is a no. Requests are
    asked one at a time.

    Args:
        timeout: Seconds to wait for an answer.
        tty: The terminal device (tests pass a pseudo-terminal).

    Example:
        >>> channel = TerminalChannel(timeout=60)
    """

    def __init__(self, timeout: float = TERMINAL_TIMEOUT, tty: str = "/dev/tty") -> None:
        self.timeout = _check_timeout(timeout)
        self.tty = tty
        self._lock = asyncio.Lock()

    async def confirm(self, request: ConfirmRequest) -> ConfirmAnswer:
        """Print the call and reason on the terminal and read y/N."""
        async with self._lock:
            try:
                fd = os.open(self.tty, os.O_RDWR | os.O_NOCTTY)
            except OSError as error:
                return ConfirmAnswer(
                    approved=False,
                    by="no-terminal",
                    note=f"no terminal to ask on ({self.tty}: {error.strerror}): denied",
                )
            try:
                return await self._ask(fd, request)
            finally:
                os.close(fd)

    async def _ask(self, fd: int, request: ConfirmRequest) -> ConfirmAnswer:
        with contextlib.suppress(termios.error):
            termios.tcflush(fd, termios.TCIFLUSH)
        try:
            os.write(fd, _prompt(request, self.timeout).encode())
            line = await asyncio.wait_for(_read_line(fd), self.timeout)
        except TimeoutError:
            _write_quietly(fd, "\nno answer in time: denied\n")
            return ConfirmAnswer(
                approved=False,
                by="timeout",
                note=f"no answer on the terminal in {self.timeout:g} s",
            )
        except OSError as error:
            return ConfirmAnswer(
                approved=False, by="terminal", note=f"terminal failed ({error.strerror}): denied"
            )
        if line is None:
            return ConfirmAnswer(approved=False, by="terminal", note="terminal closed: denied")
        answer = line.strip().lower()
        approved = answer in ("y", "yes")
        _write_quietly(fd, "approved\n" if approved else "denied\n")
        return ConfirmAnswer(approved=approved, by="terminal", note=f"answered {answer[:20]!r}")

    def __repr__(self) -> str:
        return f"TerminalChannel(timeout={self.timeout:g}, tty={self.tty!r})"


async def _read_line(fd: int) -> str | None:
    """One line from a terminal without blocking the event loop; None at end of input."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[str | None] = loop.create_future()
    buffer = bytearray()

    def readable() -> None:
        try:
            chunk = os.read(fd, 1024)
        except OSError as error:  # EIO when the terminal hangs up
            if not done.done():
                done.set_exception(error)
            return
        buffer.extend(chunk)
        if not done.done() and (not chunk or b"\n" in buffer or len(buffer) > 4096):
            done.set_result(buffer.decode(errors="replace") if chunk or buffer else None)

    loop.add_reader(fd, readable)
    try:
        return await done
    finally:
        loop.remove_reader(fd)


def _write_quietly(fd: int, text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, text.encode())


def _prompt(request: ConfirmRequest, timeout: float) -> str:
    """The question shown on the terminal; the agent's text is made inert first."""
    call, decision = request.call, request.decision
    arguments = json.dumps(call.arguments, ensure_ascii=False, default=str)
    if len(arguments) > 2000:
        arguments = arguments[:2000] + " …"
    return (
        f"\n[tripwire guard] confirmation needed ({request.id[:8]})\n"
        f"  tool:   {_inert(call.tool)}\n"
        f"  args:   {_inert(arguments)}\n"
        f"  cwd:    {_inert(call.cwd)}\n"
        f"  rule:   {_inert(decision.rule)}\n"
        f"  reason: {_inert(decision.reason)}\n"
        f"Allow this call? [y/N] (denied after {timeout:g} s) "
    )


def _inert(text: str) -> str:
    """`text` with control characters escaped.

    The agent's text must not move the cursor, clear the screen or draw a fake prompt on
    the operator's terminal.
    """
    return "".join(
        ch if unicodedata.category(ch)[0] != "C" else ch.encode("unicode_escape").decode()
        for ch in text
    )


class FileQueueChannel:
    """Asks through files in a directory, for operators' tools and UIs.

    A request is written atomically as `<id>.request.json` (a `ConfirmRequest`). The
    operator answers by writing `<id>.answer.json`, `{"approved": true|false, "by": "...",
    "note": "..."}`, atomically (write elsewhere, then rename; `answer_request` does).
    When done, the request, the operator's answer (if any) and the answer applied
    (`<id>.outcome.json`) move to `<directory>/archive/`.

    A malformed answer (not JSON, `approved` not a boolean) is read twice a poll apart,
    in case it was caught mid-write, then denied with a note saying what was wrong.

    Args:
        directory: The queue directory; created if missing.
        timeout: Seconds to wait for an answer before denying.
        poll: Seconds between looks for the answer.

    Example:
        >>> channel = FileQueueChannel(Path("/var/lib/tripwire/confirm"), timeout=300)
    """

    def __init__(self, directory: Path, timeout: float = FILE_TIMEOUT, poll: float = 0.1) -> None:
        self.directory = Path(directory)
        self.timeout = _check_timeout(timeout)
        self.poll = _check_timeout(poll)
        self.by = f"file:{self.directory}"

    async def confirm(self, request: ConfirmRequest) -> ConfirmAnswer:
        """Write the request, wait for its answer file, archive both."""
        request_path = self.directory / f"{request.id}.request.json"
        answer_path = self.directory / f"{request.id}.answer.json"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomic(request_path, request.model_dump_json(indent=2))
        except OSError as error:
            return ConfirmAnswer(
                approved=False,
                by=self.by,
                note=f"could not write the request ({error.strerror}): denied",
            )
        outcome: ConfirmAnswer | None = None
        try:
            outcome = await self._wait(answer_path)
            return outcome
        finally:
            self._archive(
                request.id,
                outcome or ConfirmAnswer(approved=False, by=self.by, note="wait cancelled"),
            )

    async def _wait(self, answer_path: Path) -> ConfirmAnswer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        problem: str | None = None  # a malformed answer seen on the previous look
        while True:
            if answer_path.exists():
                answer, error = self._read(answer_path)
                if answer is not None:
                    return answer
                if problem is not None:
                    return ConfirmAnswer(
                        approved=False,
                        by=self.by,
                        note=f"malformed answer ({error}): denied; write "
                        '{"approved": true|false, "by": "...", "note": "..."}',
                    )
                problem = error
            else:
                problem = None
            remaining = deadline - loop.time()
            if remaining <= 0:
                return ConfirmAnswer(
                    approved=False,
                    by="timeout",
                    note=f"no answer in {self.timeout:g} s in {self.directory}",
                )
            await asyncio.sleep(min(self.poll, remaining))

    def _read(self, path: Path) -> tuple[ConfirmAnswer | None, str]:
        """The answer in a file, or None and what is wrong with it."""
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_ANSWER_BYTES + 1)
        except OSError as error:
            return None, f"unreadable: {error.strerror}"
        if len(raw) > _MAX_ANSWER_BYTES:
            return None, f"larger than {_MAX_ANSWER_BYTES} bytes"
        try:
            parsed = _AnswerFile.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "file"
            return None, f"{where}: {first['msg']}"
        by = f"{self.by} ({parsed.by[:200]})" if parsed.by.strip() else self.by
        return ConfirmAnswer(approved=parsed.approved, by=by, note=parsed.note[:2000]), ""

    def _archive(self, id: str, outcome: ConfirmAnswer) -> None:
        """Move the request and answer into `archive/` beside the outcome applied."""
        archive = self.directory / _ARCHIVE
        try:
            archive.mkdir(exist_ok=True)
            write_atomic(archive / f"{id}.outcome.json", outcome.model_dump_json(indent=2))
            for suffix in ("request", "answer"):
                source = self.directory / f"{id}.{suffix}.json"
                if source.exists():
                    os.replace(source, archive / source.name)
        except OSError as error:  # the answer stands; only the record is incomplete
            logger.warning("Could not archive confirmation %s in %s: %s", id, archive, error)

    def __repr__(self) -> str:
        return f"FileQueueChannel({str(self.directory)!r}, timeout={self.timeout:g})"


class _AnswerFile(BaseModel):
    """The operator's answer file; other keys (a UI's timestamps) are ignored."""

    approved: StrictBool
    """Yes or no; `"yes"`, `1` or a missing value is malformed."""

    by: str = ""
    """The operator."""

    note: str = ""
    """Why."""


def answer_request(directory: Path, id: str, approved: bool, by: str, note: str = "") -> Path:
    """Answer a pending request in a file queue (for operators' tools and UIs).

    Args:
        directory: The queue directory the `FileQueueChannel` uses.
        id: The request's id (the `<id>` of `<id>.request.json`).
        approved: Yes or no.
        by: Who answers (recorded in the audit log).
        note: Why.

    Returns:
        The answer file written.

    Raises:
        ConfigError: The id is malformed, or no such request is pending (answered, timed
            out, or never asked).
    """
    directory = Path(directory)
    if not _ID.match(id):
        raise ConfigError(
            f"Request id {id!r} is not 32 lower-case hex digits: "
            "copy it from the request file's name."
        )
    if not (directory / f"{id}.request.json").exists():
        pending = ", ".join(r.id for r in pending_requests(directory)) or "none"
        raise ConfigError(
            f"No pending request {id} in {directory}: it was answered, timed out or never "
            f"asked (see {directory / _ARCHIVE}). Pending: {pending}."
        )
    answer = {"approved": approved, "by": by, "note": note}
    path = directory / f"{id}.answer.json"
    write_atomic(path, json.dumps(answer, ensure_ascii=False))
    return path


def pending_requests(directory: Path) -> list[ConfirmRequest]:
    """The requests in a file queue still waiting for an answer, oldest first.

    Files that do not parse are skipped (a request is written atomically, so these are
    not the guard's).
    """
    requests = []
    for path in Path(directory).glob("*.request.json"):
        try:
            requests.append(ConfirmRequest.model_validate_json(path.read_bytes()))
        except (OSError, ValidationError):
            continue
    return sorted(requests, key=lambda r: r.time)


def _check_timeout(seconds: float) -> float:
    if not (isinstance(seconds, int | float) and math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"Timeout {seconds!r} must be a positive number of seconds.")
    return float(seconds)


_SPEC_FORMS = "'deny', 'approve', 'terminal[:TIMEOUT]' or 'file:DIR[:TIMEOUT]' (TIMEOUT in seconds)"


def channel_from_spec(spec: str) -> ConfirmChannel:
    """The channel a setting or CLI option names.

    Args:
        spec: `deny`, `approve` (tests only), `terminal`, `terminal:30`, `file:/q` or
            `file:/q:300`.

    Raises:
        ConfigError: The spec matches none of these forms, or its timeout is not a
            positive number.

    Example:
        >>> channel_from_spec("file:/var/lib/tripwire/confirm:300")
        FileQueueChannel('/var/lib/tripwire/confirm', timeout=300)
    """
    kind, _, rest = spec.strip().partition(":")
    if kind == "deny" and not rest:
        return AutoChannel(approved=False)
    if kind == "approve" and not rest:
        return AutoChannel(approved=True)
    if kind == "terminal":
        return TerminalChannel(_spec_timeout(spec, rest) if rest else TERMINAL_TIMEOUT)
    if kind == "file" and rest:
        directory, timeout = rest, FILE_TIMEOUT
        head, _, tail = rest.rpartition(":")
        if head and _is_number(tail):  # a colon inside DIR stays part of it
            directory, timeout = head, _spec_timeout(spec, tail)
        return FileQueueChannel(Path(directory), timeout=timeout)
    raise ConfigError(f"Unknown confirmation channel {spec!r}: use {_SPEC_FORMS}.")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _spec_timeout(spec: str, text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(
            f"Confirmation channel {spec!r}: timeout {text!r} is not a positive number of "
            f"seconds; use {_SPEC_FORMS}."
        )
    return seconds
