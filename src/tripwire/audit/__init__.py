"""The tamper-evident audit log: hash-chained JSONL with HMAC checkpoints (SPEC §8)."""

from ._key import (
    KEY_ENV,
    default_key_path,
    key_fingerprint,
    load_key,
    load_or_create_key,
)
from ._log import AuditLog, FsyncMode
from ._record import (
    CHECKPOINT,
    GENESIS,
    TORN_TAIL_RECOVERED,
    AuditRecord,
    canonical_json,
    chain_hash,
    checkpoint_hmac,
)
from ._verify import Problem, VerifyReport, head_problem, verify_log

__all__ = [
    "CHECKPOINT",
    "GENESIS",
    "KEY_ENV",
    "TORN_TAIL_RECOVERED",
    "AuditLog",
    "AuditRecord",
    "FsyncMode",
    "Problem",
    "VerifyReport",
    "canonical_json",
    "chain_hash",
    "checkpoint_hmac",
    "default_key_path",
    "head_problem",
    "key_fingerprint",
    "load_key",
    "load_or_create_key",
    "verify_log",
]
