"""Verify an audit log: name the first record that was altered, removed, moved or forged.

The walk checks, line by line, that each record's hash matches its bytes, that its seq
follows the one before and that its `prev` is the hash before it. At the first break
it looks at the lines around it to tell the kinds of tampering apart as far as the
chain allows; it stops there, since nothing after a break can be trusted.

What the chain cannot show on its own: anyone who can write the file can rewrite it
from some point on with a consistent recomputed chain. Checkpoints catch that: a
checkpoint's HMAC (under a key the writer of the forgery lacks) names the chain hash
at its place. Records after the last good checkpoint are covered only by the chain,
and the report says how many; removing records from the very end leaves no trace in
the file itself.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, Field

from tripwire._errors import AuditError

from ._key import key_fingerprint
from ._record import (
    CHECKPOINT,
    GENESIS,
    HASH_SUFFIX_LEN,
    RECORD_KEYS,
    TORN_TAIL_RECOVERED,
    canonical_json,
    chain_hash,
    checkpoint_hmac,
)

__all__ = ["Problem", "VerifyReport", "verify_log"]

Problem = Literal[
    "altered",
    "removed",
    "reordered",
    "inserted",
    "forged",
    "bad-checkpoint",
    "torn-tail",
    "malformed",
]
"""What `verify_log` found wrong at the first bad line."""

_SUFFIX_HEAD = b',"hash":"'


class VerifyReport(BaseModel):
    """The outcome of verifying one audit log."""

    ok: bool
    """True when the chain is whole and every checked checkpoint is good. A torn last line
    alone leaves this True (it is a crash, not tampering) and sets `torn_tail`."""

    records: int
    """Records that verified, checkpoints included, up to the first bad line."""

    checkpoints: int
    """Checkpoints whose HMAC was checked with the key and is good."""

    checkpoints_unchecked: int = 0
    """Checkpoints whose HMAC could not be checked because no key was given."""

    key_checked: bool = False
    """True when a key was given, so checkpoint HMACs were checked."""

    uncovered: int = 0
    """Records after the last verified checkpoint: only the hash chain covers them (all of
    them when no key was given)."""

    first_bad: int | None = None
    """Line number (from 1) of the first bad record, or None."""

    first_bad_seq: int | None = None
    """Seq of the first bad record, when its line could be read."""

    problem: Problem | None = None
    """What is wrong there; `torn-tail` (with `ok` True) when the only finding is a torn
    last line."""

    detail: str = ""
    """What was found, in words."""

    torn_tail: bool = False
    """True when the last line is incomplete (a writer died mid-write)."""

    torn_offset: int | None = None
    """Byte offset of that torn last line."""

    recovered: list[int] = Field(default_factory=list)
    """Byte offsets of earlier torn lines that a later writer ended and recorded."""

    def summary(self) -> str:
        """One line for people: `OK: ...` or `BAD at line L (seq S): problem: detail`."""
        if not self.ok:
            seq = "?" if self.first_bad_seq is None else self.first_bad_seq
            return f"BAD at line {self.first_bad} (seq {seq}): {self.problem}: {self.detail}"
        text = f"OK: {self.records} records, {self.checkpoints} checkpoints verified"
        if self.checkpoints_unchecked:
            text += f"; {self.checkpoints_unchecked} checkpoints unchecked (no key given)"
        if self.uncovered:
            text += f"; {self.uncovered} records after the last verified checkpoint"
            text += " are covered by the hash chain only"
        if self.recovered:
            text += f"; {len(self.recovered)} torn lines recovered after crashes"
        if self.torn_tail:
            text += f"; warning: {self.detail}"
        return text


class _Bad(Exception):
    """Stops the walk at the first bad line."""

    def __init__(self, line: int, seq: int | None, problem: Problem, detail: str):
        self.line, self.seq, self.problem, self.detail = line, seq, problem, detail


class _Rec:
    """The parts of a parsed line the walk needs."""

    __slots__ = ("data", "hash", "hash_ok", "kind", "line", "offset", "prev", "seq")

    def __init__(self, line: int, offset: int, obj: dict[str, Any], digest: str, hash_ok: bool):
        self.line, self.offset = line, offset
        self.seq: int = obj["seq"]
        self.prev: str = obj["prev"]
        self.kind: str = obj["kind"]
        self.data: dict[str, Any] = obj["data"]
        self.hash, self.hash_ok = digest, hash_ok


def verify_log(path: str | Path, *, key: bytes | None = None) -> VerifyReport:
    """Check an audit log's hash chain and, with the key, its checkpoints.

    Args:
        path: The JSONL log.
        key: The checkpoint key the log was written with. Without it checkpoints are
            counted as unchecked, never as good.

    Returns:
        The report; `first_bad`, `problem` and `detail` name the first bad record.

    Raises:
        AuditError: The file cannot be read.
    """
    try:
        with open(path, "rb") as f:
            return _Walk(key).run(f)
    except OSError as ex:
        raise AuditError(f"cannot read audit log {path}: {ex.strerror or ex}") from ex


def _parse(raw: bytes, line: int, offset: int) -> _Rec | None:
    """Parse one newline-stripped line; None when it is not a well-formed record."""
    if len(raw) <= HASH_SUFFIX_LEN or raw[-HASH_SUFFIX_LEN:-66] != _SUFFIX_HEAD:
        return None
    if raw[-2:] != b'"}':
        return None
    body = raw[:-HASH_SUFFIX_LEN] + b"}"
    try:
        digest = raw[-66:-2].decode("ascii")
        obj = json.loads(body)
        if type(obj) is not dict or obj.keys() != RECORD_KEYS:
            return None
        prev, seq = obj["prev"], obj["seq"]
        if (
            type(seq) is not int
            or type(prev) is not str
            or len(prev) != 64
            or type(obj["kind"]) is not str
            or type(obj["data"]) is not dict
            or type(obj["time"]) is not str
        ):
            return None
        hash_ok = chain_hash(prev, body) == digest
    except (ValueError, UnicodeError):
        return None
    return _Rec(line, offset, obj, digest, hash_ok)


def _lines(f: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, raw line with its newline, if any) for each line."""
    offset = 0
    for number, raw in enumerate(f, 1):
        yield number, offset, raw
        offset += len(raw)


class _Walk:
    """One pass over a log; state lives here so the classifiers can read it."""

    def __init__(self, key: bytes | None):
        self.key = key
        self.key_id = None if key is None else key_fingerprint(key)
        self.records = 0
        self.checkpoints = 0
        self.unchecked = 0
        self.uncovered = 0
        self.recovered: list[int] = []
        self.last: _Rec | None = None  # the last accepted record
        self.before_last: _Rec | None = None
        # First record after the last checkpoint that passed every check we could make
        # (without a key: the chain checks): the earliest record a forgery can reach.
        self.exposed: tuple[int, int] | None = None

    def run(self, f: IO[bytes]) -> VerifyReport:
        lines = _lines(f)
        try:
            torn = self._walk(lines)
        except _Bad as bad:
            return self._report(
                ok=False,
                first_bad=bad.line,
                first_bad_seq=bad.seq,
                problem=bad.problem,
                detail=bad.detail,
            )
        if torn is not None:
            line, offset, size = torn
            return self._report(
                ok=True,
                first_bad=line,
                problem="torn-tail",
                torn_tail=True,
                torn_offset=offset,
                detail=f"line {line} (byte {offset}, {size} bytes) is torn: a writer died "
                "mid-write; the next append marks it recovered, nothing before it is lost",
            )
        return self._report(ok=True, detail="hash chain intact")

    def _report(self, **fields: Any) -> VerifyReport:
        return VerifyReport(
            records=self.records,
            checkpoints=self.checkpoints,
            checkpoints_unchecked=self.unchecked,
            key_checked=self.key is not None,
            uncovered=self.uncovered,
            recovered=self.recovered,
            **fields,
        )

    def _walk(self, lines: Iterator[tuple[int, int, bytes]]) -> tuple[int, int, int] | None:
        """Accept lines until one is bad (raises `_Bad`); return a torn tail, if any."""
        junk: tuple[int, int] | None = None  # an unparseable line awaiting its recovery record
        for number, offset, raw in lines:
            if not raw.endswith(b"\n"):
                if junk is not None:
                    self._malformed(*junk)
                return number, offset, len(raw)
            rec = _parse(raw[:-1], number, offset)
            if rec is None:
                if junk is not None:
                    self._malformed(*junk)
                junk = (number, offset)
                continue
            if rec.kind == TORN_TAIL_RECOVERED:
                self._recovery(rec, junk)
                junk = None
            elif junk is not None:
                self._malformed(*junk)
            if not rec.hash_ok:
                raise _Bad(number, rec.seq, "altered", self._altered_detail(raw[:-1], rec))
            last = self.last
            expected_seq = 0 if last is None else last.seq + 1
            expected_prev = GENESIS if last is None else last.hash
            if rec.seq != expected_seq or rec.prev != expected_prev:
                self._break(rec, lines)
            if rec.kind == CHECKPOINT:
                self._checkpoint(rec)
            else:
                self.uncovered += 1
                if self.exposed is None:
                    self.exposed = (number, rec.seq)
            self.records += 1
            self.before_last, self.last = last, rec
        if junk is not None:
            self._malformed(*junk)
        return None

    def _malformed(self, line: int, offset: int) -> None:
        raise _Bad(
            line,
            None,
            "malformed",
            f"line {line} (byte {offset}) is not an audit record and no recovery record follows it",
        )

    def _recovery(self, rec: _Rec, junk: tuple[int, int] | None) -> None:
        """Accept the torn line a recovery record names: skipped, and listed as recovered."""
        offset = rec.data.get("offset")
        if junk is not None and offset == junk[1]:
            self.recovered.append(offset)
            return None
        last = self.last
        if junk is None and last is not None and last.kind != CHECKPOINT and offset == last.offset:
            # The torn line happened to parse (only its newline was missing): the writer
            # did not chain onto it, so neither do we.
            self.recovered.append(offset)
            self.records -= 1
            self.uncovered -= 1
            if self.exposed == (last.line, last.seq):
                self.exposed = None
            self.last, self.before_last = self.before_last, None
            return None
        raise _Bad(
            rec.line,
            rec.seq,
            "inserted",
            f"a {TORN_TAIL_RECOVERED} record names byte {offset}, where no torn line is",
        )

    def _altered_detail(self, raw: bytes, rec: _Rec) -> str:
        body = raw[:-HASH_SUFFIX_LEN] + b"}"
        obj = json.loads(body)
        if chain_hash(rec.prev, canonical_json(obj)) == rec.hash:
            return "its bytes were reformatted (the content still matches its hash)"
        return "its hash does not match its content: the record was edited"

    def _break(self, rec: _Rec, lines: Iterator[tuple[int, int, bytes]]) -> None:
        """Name what happened at the first chain break; always raises `_Bad`."""
        last = self.last
        expected = 0 if last is None else last.seq + 1
        s = rec.seq
        if s > expected:
            self._gap(rec, expected, lines)
        if s == expected:  # the right seq, but it names another record as prev
            nxt = _next_record(lines)
            if nxt is not None and nxt.seq == s and nxt.prev == _hash_of(last):
                raise _Bad(
                    rec.line,
                    s,
                    "inserted",
                    f"an extra record with seq {s}; line {nxt.line} holds the one that chains",
                )
            if last is None:
                raise _Bad(rec.line, s, "altered", "the first record's prev is not GENESIS")
            if rec.kind == CHECKPOINT:
                self._forged(rec, f"the checkpoint at line {rec.line} was made over another chain")
            raise _Bad(
                last.line,
                last.seq,
                "altered",
                f"line {rec.line} (seq {s}) chains to a different record: this one was "
                f"changed and re-hashed{self._since_checkpoint(', and maybe records from')}",
            )
        assert last is not None  # s < expected: this seq was accepted already
        if rec.hash == last.hash:
            raise _Bad(rec.line, s, "inserted", f"a copy of line {last.line}")
        if s == last.seq and rec.prev == last.prev:  # two records claim one place
            nxt = _next_record(lines)
            if nxt is not None and nxt.seq == s + 1 and nxt.prev == rec.hash:
                raise _Bad(
                    last.line,
                    s,
                    "inserted",
                    f"an extra record with seq {s}; line {rec.line} holds the one the "
                    "chain goes on from",
                )
            raise _Bad(rec.line, s, "inserted", f"another record with seq {s} forks the chain")
        raise _Bad(rec.line, s, "inserted", f"seq {s} appeared earlier: a replayed record")

    def _gap(self, rec: _Rec, expected: int, lines: Iterator[tuple[int, int, bytes]]) -> None:
        missing = range(expected, rec.seq)
        for number, offset, raw in lines:
            later = _parse(raw.rstrip(b"\n"), number, offset)
            if later is not None and later.seq in missing:
                raise _Bad(
                    rec.line,
                    rec.seq,
                    "reordered",
                    f"seq {rec.seq} comes before seq {later.seq} (line {later.line}): "
                    "records were moved",
                )
        gap = f"seq {expected}" if rec.seq == expected + 1 else f"seqs {expected}-{rec.seq - 1}"
        raise _Bad(rec.line, rec.seq, "removed", f"{gap} missing before this line")

    def _checkpoint(self, rec: _Rec) -> None:
        data = rec.data
        through_seq, through_hash = data.get("through_seq"), data.get("through_hash")
        mac, key_id = data.get("hmac"), data.get("key_id")
        if not (
            isinstance(through_seq, int)
            and isinstance(through_hash, str)
            and isinstance(mac, str)
            and isinstance(key_id, str)
        ):
            raise _Bad(rec.line, rec.seq, "bad-checkpoint", "its data lacks the checkpoint fields")
        if through_seq != rec.seq - 1 or through_hash != rec.prev:
            self._forged(
                rec,
                f"the checkpoint at line {rec.line} (seq {rec.seq}) names seq {through_seq}"
                " and a chain hash that differ from the records before it",
            )
        if self.key is None:  # sound as far as the chain shows; the HMAC stays unchecked
            self.unchecked += 1
            self.exposed = None
            return
        if key_id != self.key_id:
            raise _Bad(
                rec.line,
                rec.seq,
                "bad-checkpoint",
                f"signed with key {key_id}, not the given key {self.key_id}: the wrong "
                "--key-file, or a forged checkpoint"
                + self._since_checkpoint("; records may be forged from"),
            )
        expected = checkpoint_hmac(self.key, through_seq, through_hash)
        if not hmac.compare_digest(expected, mac):
            self._forged(rec, f"the checkpoint at line {rec.line} (seq {rec.seq}) fails its HMAC")
        self.checkpoints += 1
        self.uncovered = 0
        self.exposed = None

    def _since_checkpoint(self, lead: str) -> str:
        """`lead` and the first record after the last good checkpoint, when there is one."""
        if self.exposed is None:
            return ""
        line, seq = self.exposed
        return f"{lead} line {line} (seq {seq}), the first after the last good checkpoint"

    def _forged(self, rec: _Rec, why: str) -> None:
        line, seq = self.exposed if self.exposed is not None else (rec.line, rec.seq)
        raise _Bad(
            line,
            seq,
            "forged",
            f"{why}: the chain was rewritten; this is the first record after the last good "
            "checkpoint, the earliest that may be forged",
        )


def _hash_of(rec: _Rec | None) -> str:
    """The hash a record's successor must name as `prev`."""
    return GENESIS if rec is None else rec.hash


def _next_record(lines: Iterator[tuple[int, int, bytes]]) -> _Rec | None:
    for number, offset, raw in lines:
        return _parse(raw.rstrip(b"\n"), number, offset)
    return None


def head_problem(path: str | Path, head: str) -> tuple[Problem, str] | None:
    """Compare the log's last record with an anchor kept outside it (e.g. a run's `run.json`).

    A chain verifies after records are cut from its end; only an anchor kept elsewhere
    tells. Returns None when the last record's hash is `head`, else the problem
    (`removed`, or `inserted` for records after the anchor) and what was found.
    """
    found_at: int | None = None
    last_seq: int | None = None
    records = 0
    with open(path, "rb") as f:
        for _, _, raw in _lines(f):
            try:
                record = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            records += 1
            last_seq = record.get("seq")
            if record.get("hash") == head:
                found_at = records
    if found_at is None:
        return "removed", (
            f"no record has the anchor hash {head[:16]}…: records were removed from the "
            f"end of the log or it was rewritten (it now ends at seq {last_seq})"
        )
    if found_at != records:
        return "inserted", f"{records - found_at} records were added after the anchor {head[:16]}…"
    return None
