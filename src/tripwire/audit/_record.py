"""One audit record, and the exact bytes its hash covers.

A record is one line of JSONL. Its hash is defined over *canonical JSON*:

- the record's fields `data`, `kind`, `prev`, `seq` and `time`, without `hash`;
- keys sorted at every level, no whitespace (`separators=(",", ":")`);
- `ensure_ascii=False`, encoded as UTF-8; NaN and infinities are refused;
- `hash = SHA-256(prev as ASCII hex || canonical JSON bytes)`, as lowercase hex.

The line on disk is that canonical JSON with `,"hash":"<hex>"` spliced in before the
closing brace, then a newline. Keeping `hash` last (not sorted) lets a verifier hash the
stored bytes as they are instead of re-serialising them; any byte change, even in
whitespace, therefore counts as an alteration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel

__all__ = [
    "CHECKPOINT",
    "GENESIS",
    "HASH_SUFFIX_LEN",
    "RECORD_KEYS",
    "TORN_TAIL_RECOVERED",
    "AuditRecord",
    "canonical_json",
    "chain_hash",
    "checkpoint_hmac",
    "dumps",
    "record_line",
]

GENESIS = "0" * 64
"""The `prev` of the first record in a log: there is nothing before it."""

CHECKPOINT = "checkpoint"
"""Kind of the HMAC-signed records that vouch for the chain up to them."""

TORN_TAIL_RECOVERED = "torn-tail-recovered"
"""Kind of the record a writer appends after terminating a line a crashed writer left."""

RECORD_KEYS = frozenset({"data", "kind", "prev", "seq", "time"})
"""The fields the hash covers: every field but `hash`."""

HASH_SUFFIX_LEN = len(',"hash":"') + 64 + len('"}')
"""Length of the `,"hash":"<hex>"}` tail of a line, before its newline."""

_encoder = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def dumps(value: Any) -> str:
    """Canonical JSON text of a value (sorted keys, no whitespace, no ASCII escaping)."""
    return _encoder.encode(value)


def canonical_json(record: dict[str, Any]) -> bytes:
    """The bytes a record's hash covers: its canonical JSON without `hash`, UTF-8."""
    return dumps({k: v for k, v in record.items() if k != "hash"}).encode()


def chain_hash(prev: str, body: bytes) -> str:
    """SHA-256 over the previous record's hash (ASCII hex) and this record's body."""
    return hashlib.sha256(prev.encode("ascii") + body).hexdigest()


def checkpoint_hmac(key: bytes, through_seq: int, through_hash: str) -> str:
    """HMAC-SHA256, under the supervisor's key, of the chain hash and seq a checkpoint covers."""
    message = f"tripwire-audit-checkpoint\0{through_seq}\0{through_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record_line(
    *, seq: int, time_json: str, kind_json: str, data_json: str, prev: str
) -> tuple[bytes, str]:
    """Build one record's line from already-canonical pieces.

    Splicing pre-serialised pieces in sorted-key order gives the same bytes as
    `canonical_json` (the tests check this) at a fraction of the cost, which is what
    lets a batched writer chain records while it holds the file lock.

    Args:
        seq: The record's sequence number.
        time_json: `dumps(time)`.
        kind_json: `dumps(kind)`.
        data_json: `dumps(data)`.
        prev: The previous record's hash.

    Returns:
        The full line (with its hash and newline) and the record's hash.
    """
    body = (
        f'{{"data":{data_json},"kind":{kind_json},"prev":"{prev}","seq":{seq},"time":{time_json}}}'
    ).encode()
    digest = chain_hash(prev, body)
    return body[:-1] + b',"hash":"' + digest.encode() + b'"}\n', digest


class AuditRecord(BaseModel):
    """One entry of the audit log: an event, its place in the chain and its hash."""

    seq: int | None = None
    """Position in the log, from 0, one more than the record before it. None while the
    record waits in a batched writer's buffer; filled in when it is written."""

    time: str
    """When the event was appended, ISO 8601 in UTC with microseconds. Set by the
    appending process, so batched writers may interleave times across `seq`."""

    kind: str
    """What happened (`decision`, `honeytoken`, `checkpoint`, `torn-tail-recovered`...)."""

    data: dict[str, Any]
    """The event's details, any JSON object."""

    prev: str | None = None
    """The hash of the record before this one (`GENESIS`, 64 zeros, for the first).
    None until written."""

    hash: str | None = None
    """SHA-256 of `prev` and this record's canonical JSON (see the module docstring).
    None until written."""

    @property
    def written(self) -> bool:
        """True once the record has its place in the chain."""
        return self.hash is not None
