"""The audit log writer: append-only, hash-chained, safe for many processes at once.

Several processes may append to one file together (coding-agent hooks fire in
parallel). Each write therefore takes an exclusive `flock` on the file, re-reads the
last record's seq and hash from the file's tail (someone else may have appended),
chains its records onto it, writes them with one `os.write` on an `O_APPEND` descriptor
and releases the lock. The chain is computed at write time under the lock, never at
append time, so batched writers in different processes still form one chain.

Durability by `fsync` mode:

- `"always"`: each `append` writes and fsyncs before it returns. A crash (even power
  loss) loses nothing `append` returned; kill -9 mid-write loses at most the record
  being written.
- `"batch"` (default): records wait in memory until `batch_size` are buffered, an append
  comes `batch_seconds` after the oldest buffered one, or `flush()`/`close()`/normal
  interpreter exit; each batch is fsynced. A crash loses at most the records not yet
  flushed; kill -9 mid-write loses at most the batch being written.
- `"never"`: batched like `"batch"` but never fsynced: a process crash loses only the
  unflushed records, a power loss may lose whatever the OS had not written back.

A writer that dies mid-line leaves a torn last line. The next writer does not chain
onto it: it ends the torn line with a newline and appends a `torn-tail-recovered`
record naming its byte offset, so `verify_log` can report it and everything before it
stays valid.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import threading
import time
import weakref
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from tripwire._errors import AuditError, ConfigError

from ._key import key_fingerprint, load_or_create_key
from ._record import (
    CHECKPOINT,
    GENESIS,
    HASH_SUFFIX_LEN,
    TORN_TAIL_RECOVERED,
    AuditRecord,
    chain_hash,
    checkpoint_hmac,
    dumps,
    record_line,
)

__all__ = ["AuditLog", "FsyncMode"]

FsyncMode = Literal["always", "batch", "never"]
"""When the writer fsyncs: every record, every batch, or never (see the module docstring)."""

_RESERVED_KINDS = frozenset({CHECKPOINT, TORN_TAIL_RECOVERED})
_TAIL_BLOCK = 4096
# The C string encoder json.dumps uses for str values with ensure_ascii=False.
_encode_str: Any = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)
_open_logs: weakref.WeakSet[AuditLog] = weakref.WeakSet()


class _Pending:
    """A record appended but not yet written: the chain fields come at write time."""

    __slots__ = ("data_json", "kind_json", "record", "time_json")

    def __init__(self, record: AuditRecord, time_json: str, kind_json: str, data_json: str):
        self.record = record
        self.time_json = time_json
        self.kind_json = kind_json
        self.data_json = data_json


class _Tail:
    """What a writer needs from the end of the file before it chains onto it."""

    __slots__ = ("kind", "last_hash", "seq", "size", "torn_at")

    def __init__(self, size: int, seq: int, last_hash: str, kind: str | None, torn_at: int | None):
        self.size = size
        """File size when read."""
        self.seq = seq
        """Seq of the last complete record (-1 for an empty log)."""
        self.last_hash = last_hash
        """Hash of the last complete record (`GENESIS` for an empty log)."""
        self.kind = kind
        """Kind of the last complete record."""
        self.torn_at = torn_at
        """Byte offset of a torn last line (no newline), or None."""


class AuditLog:
    """Append-only, hash-chained JSONL audit log with HMAC checkpoints.

    Examples:
        ```python
        with AuditLog("runs/x/audit.jsonl", key_file=default_key_path()) as log:
            log.append("decision", {"tool": "bash", "action": "deny"})
        ```

    Open one `AuditLog` per process (an object inherited across `fork` refuses to
    write); any number of processes may open the same file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        key: bytes | None = None,
        key_file: Path | None = None,
        fsync: FsyncMode = "batch",
        checkpoint_every: int = 1000,
        batch_size: int = 256,
        batch_seconds: float = 0.2,
    ) -> None:
        """Open (or create) a log and recover a torn last line if a writer crashed.

        Args:
            path: The JSONL file; created with mode 0600 if missing.
            key: The checkpoint key. Without a key (and key file) the log is chained but
                carries no checkpoints, so a rewritten chain goes unnoticed.
            key_file: Read the key from here (created, mode 0600, if missing).
            fsync: `"always"`, `"batch"` or `"never"` (see the module docstring).
            checkpoint_every: A checkpoint takes every seq that is a positive multiple of
                this, so it follows `checkpoint_every - 1` other records.
            batch_size: In batched modes, write once this many records are buffered.
            batch_seconds: In batched modes, write at the next append once the oldest
                buffered record is this old.

        Raises:
            ConfigError: Invalid settings.
            AuditError: The file or key cannot be opened, or its last record is not valid.
        """
        if fsync not in ("always", "batch", "never"):
            raise ConfigError(f"fsync must be 'always', 'batch' or 'never', not {fsync!r}")
        if checkpoint_every < 2 or batch_size < 1 or batch_seconds < 0:
            raise ConfigError(
                "audit log settings out of range: checkpoint_every >= 2, batch_size >= 1 "
                f"and batch_seconds >= 0 (got {checkpoint_every}, {batch_size}, {batch_seconds})"
            )
        if key is not None and key_file is not None:
            raise ConfigError("give the audit key or the key file, not both")
        if key_file is not None:
            key = load_or_create_key(key_file)
        if key is not None and len(key) < 16:
            raise ConfigError(f"the audit key is {len(key)} bytes; use at least 16 (32 is usual)")
        self.path = Path(path)
        """The log file."""
        self.fsync: FsyncMode = fsync
        """When records are fsynced."""
        self._key = key
        self._key_id = None if key is None else key_fingerprint(key)
        self._every = checkpoint_every
        self._batch_size = batch_size
        self._batch_seconds = batch_seconds
        self._buffer: list[_Pending] = []
        self._oldest = 0.0
        self._known: tuple[int, int, str, str | None] | None = None  # after our own write
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._fd: int | None = None
        created = not self.path.exists()
        try:
            self._fd = os.open(
                self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
            if created:  # make the new directory entry durable too
                _fsync_dir(self.path.parent)
        except OSError as ex:
            raise AuditError(f"cannot open audit log {self.path}: {ex.strerror}") from ex
        self._ino = _file_id(os.fstat(self._fd))
        try:
            with self._lock:
                self._write([], force_checkpoint=False)  # recovers a torn tail, if any
        except BaseException:
            os.close(self._fd)
            self._fd = None
            raise
        _open_logs.add(self)

    def append(self, kind: str, data: dict[str, Any]) -> AuditRecord:
        """Add an event to the log.

        `data` is serialised now, so changing the dict afterwards changes nothing logged.

        Args:
            kind: What happened (`decision`, `honeytoken`...); `checkpoint` and
                `torn-tail-recovered` are reserved for the log itself.
            data: The event's details, a JSON-serialisable dict.

        Returns:
            The record. With `fsync="always"` it is written and has its seq and hash; in
            batched modes those are None until the batch is written, when the same object
            is filled in.

        Raises:
            AuditError: The data is not JSON, the kind is reserved, the log is closed or a
                write failed (a failed batch is dropped: its records stay unwritten).
        """
        if kind in _RESERVED_KINDS or not isinstance(kind, str):
            raise AuditError(f"audit kind {kind!r} is reserved for the log itself; pick another")
        if not isinstance(data, dict):
            raise AuditError(f"audit data must be a dict, not {type(data).__name__}")
        try:
            data_json = dumps(data)
        except (TypeError, ValueError) as ex:
            raise AuditError(
                f"audit data for {kind!r} is not JSON ({ex}); log only str, int, float, "
                "bool, None, lists and dicts with str keys"
            ) from ex
        try:
            data_json.encode("utf-8")
        except UnicodeEncodeError:
            # Text that is not valid Unicode (undecodable bytes kept as surrogates) is
            # logged with "?" in their place: one odd record must not fail its batch.
            data = json.loads(data_json.encode("utf-8", "replace"))
            data_json = dumps(data)
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        record = AuditRecord.model_construct(
            seq=None, time=stamp, kind=kind, data=data, prev=None, hash=None
        )
        pending = _Pending(record, f'"{stamp}"', _encode_str(kind), data_json)
        with self._lock:
            if self.fsync == "always":
                self._write([pending], force_checkpoint=False)
                return record
            if not self._buffer:
                self._oldest = time.monotonic()
            self._buffer.append(pending)
            if (
                len(self._buffer) >= self._batch_size
                or time.monotonic() - self._oldest >= self._batch_seconds
            ):
                self._flush_locked()
        return record

    def flush(self) -> None:
        """Write every buffered record now (and fsync, unless `fsync="never"`)."""
        with self._lock:
            self._flush_locked()

    def checkpoint(self) -> None:
        """Write buffered records, then a checkpoint over the chain so far.

        Nothing is added when the last record is already a checkpoint.

        Raises:
            AuditError: The log has no key.
        """
        if self._key is None:
            raise AuditError(
                f"audit log {self.path} has no key, so it cannot checkpoint; "
                "open it with key= or key_file="
            )
        with self._lock:
            pending, self._buffer = self._buffer, []
            self._write(pending, force_checkpoint=True)

    def close(self) -> None:
        """Flush and close. Does not checkpoint: call `checkpoint()` first for that."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if os.getpid() == self._pid:
                    self._flush_locked()
            finally:
                os.close(self._fd)
                self._fd = None
                _open_logs.discard(self)

    @property
    def closed(self) -> bool:
        """True after `close()`."""
        return self._fd is None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _flush_locked(self) -> None:
        if self._buffer:
            pending, self._buffer = self._buffer, []
            self._write(pending, force_checkpoint=False)

    def _write(self, pending: list[_Pending], *, force_checkpoint: bool) -> None:
        """Chain `pending` onto the file's tail and write it, all under the file lock."""
        fd = self._fd
        if fd is None:
            raise AuditError(f"audit log {self.path} is closed; open a new AuditLog")
        if os.getpid() != self._pid:
            raise AuditError(
                "an AuditLog was used in a process forked from the one that opened it; "
                "open a new AuditLog in each process"
            )
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as ex:
            raise AuditError(f"cannot lock audit log {self.path}: {ex.strerror}") from ex
        try:
            self._check_same_file()
            tail = self._tail(fd)
            seq, last, kind = tail.seq, tail.last_hash, tail.kind
            parts: list[bytes] = []
            if tail.torn_at is not None:
                parts.append(b"\n")  # end the torn line; nothing chains onto it
                seq += 1
                torn = {"offset": tail.torn_at, "length": tail.size - tail.torn_at}
                last = self._line(parts, seq, TORN_TAIL_RECOVERED, torn, last)
                kind = TORN_TAIL_RECOVERED
            filled: list[tuple[AuditRecord, int, str, str]] = []
            for item in pending:
                seq += 1
                if self._key is not None and seq > 0 and seq % self._every == 0:
                    last = self._checkpoint_line(parts, seq, last)
                    seq += 1
                line, digest = record_line(
                    seq=seq,
                    time_json=item.time_json,
                    kind_json=item.kind_json,
                    data_json=item.data_json,
                    prev=last,
                )
                parts.append(line)
                filled.append((item.record, seq, last, digest))
                last, kind = digest, item.record.kind
            if force_checkpoint and kind != CHECKPOINT and seq >= 0:
                seq += 1
                last = self._checkpoint_line(parts, seq, last)
                kind = CHECKPOINT
            if parts:
                blob = b"".join(parts)
                self._write_all(fd, blob)
                if self.fsync != "never" or force_checkpoint:
                    os.fdatasync(fd)
                self._known = (tail.size + len(blob), seq, last, kind)
            else:
                self._known = (tail.size, seq, last, kind)
        except OSError as ex:
            self._known = None
            raise AuditError(
                f"cannot write audit log {self.path}: {ex.strerror}; {len(pending)} "
                "records were not logged (a partial line is recovered by the next write)"
            ) from ex
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        for record, rec_seq, prev, digest in filled:  # only once the bytes are on disk
            record.seq, record.prev, record.hash = rec_seq, prev, digest

    def _line(
        self, parts: list[bytes], seq: int, kind: str, data: dict[str, Any], prev: str
    ) -> str:
        """Append one of the log's own records to `parts`; return its hash."""
        stamp = datetime.now(UTC).isoformat(timespec="microseconds")
        line, digest = record_line(
            seq=seq, time_json=f'"{stamp}"', kind_json=dumps(kind), data_json=dumps(data), prev=prev
        )
        parts.append(line)
        return digest

    def _checkpoint_line(self, parts: list[bytes], seq: int, prev: str) -> str:
        assert self._key is not None and self._key_id is not None
        data = {
            "through_seq": seq - 1,
            "through_hash": prev,
            "key_id": self._key_id,
            "hmac": checkpoint_hmac(self._key, seq - 1, prev),
        }
        return self._line(parts, seq, CHECKPOINT, data, prev)

    def _check_same_file(self) -> None:
        """Refuse to write once the path no longer names the file we opened."""
        try:
            now = _file_id(os.stat(self.path))
        except FileNotFoundError:
            now = None
        if now != self._ino:
            raise AuditError(
                f"audit log {self.path} was deleted, moved or replaced while in use; keep "
                "the old file as evidence and open a new AuditLog"
            )

    def _tail(self, fd: int) -> _Tail:
        """Seq, hash and kind of the last complete record, read backwards from the end."""
        size = os.fstat(fd).st_size
        if self._known is not None and self._known[0] == size:
            _, seq, last, kind = self._known
            return _Tail(size, seq, last, kind, None)
        if size == 0:
            return _Tail(0, -1, GENESIS, None, None)
        block = _TAIL_BLOCK
        while True:
            start = max(0, size - block)
            buf = os.pread(fd, size - start, start)
            end = len(buf) - 1 if buf.endswith(b"\n") else buf.rfind(b"\n")
            torn_at = None if end == len(buf) - 1 else start + end + 1
            if end < 0 and start > 0:
                block *= 4
                continue
            if end < 0:  # only a torn line: nothing to chain onto
                return _Tail(size, -1, GENESIS, None, torn_at)
            begin = buf.rfind(b"\n", 0, end) + 1
            if begin == 0 and start > 0:
                block *= 4
                continue
            seq, digest, kind = self._parse_last(buf[begin:end], start + begin)
            return _Tail(size, seq, digest, kind, torn_at)

    def _parse_last(self, line: bytes, offset: int) -> tuple[int, str, str]:
        """Check the last record's own hash before chaining onto it: fail closed if bad."""
        try:
            record = json.loads(line)
            body = line[:-HASH_SUFFIX_LEN] + b"}"
            seq, digest, prev, kind = record["seq"], record["hash"], record["prev"], record["kind"]
            good = (
                isinstance(seq, int)
                and isinstance(kind, str)
                and isinstance(prev, str)
                and prev.isascii()
                and line.endswith(f',"hash":"{digest}"}}'.encode())
                and chain_hash(prev, body) == digest
            )
        except (ValueError, KeyError, TypeError, UnicodeError):
            good = False
        if not good:
            raise AuditError(
                f"the last line of audit log {self.path} (byte {offset}) is not a valid "
                f"record, so nothing can chain onto it; run 'tripwire audit verify "
                f"{self.path}' and start a new log file"
            )
        return seq, digest, kind

    @staticmethod
    def _write_all(fd: int, blob: bytes) -> None:
        # One write in practice; a short write (disk full, signal) continues under the lock.
        view = memoryview(blob)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _file_id(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@atexit.register
def _flush_open_logs() -> None:
    """Write what batched logs still hold when the interpreter exits normally."""
    for log in list(_open_logs):
        if log._pid == os.getpid():
            with suppress(AuditError):  # nowhere left to report it; the records are lost
                log.close()
