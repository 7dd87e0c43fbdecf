"""The checkpoint key: 32 random bytes that only the supervisor may read.

The hash chain alone shows that a log was changed *unless* whoever changed it also
recomputed every hash after the change, which anyone who can write the file can do.
Checkpoints close that gap: every so often the writer appends an HMAC-SHA256, under
this key, of the chain hash and seq at that point. Rewriting the chain before a
checkpoint then needs the key, so the key must be out of the agent's reach:

- **Supervised runs** (`tripwire run`, the Inspect approver): the supervisor process
  holds the key outside the sandbox; the agent never runs as a user that can read it.
- **Hook mode** (coding-agent hooks): the hook runs as the same user as the agent, so an
  agent that goes looking can read a key in `~/.config/tripwire/` and forge
  checkpoints. The log then only resists an agent that does not know to look. To close
  that, have the hook run as a dedicated user that owns the key and the log (e.g. the
  hook command is `sudo -u tripwire tripwire hook ...` with a matching sudoers rule).

The key file is created with mode 0600 (created under a temporary name with `O_EXCL`,
then linked into place, so umask cannot widen it and two processes racing to create it
both end up with the same key); a key file that group or others may read or write is
refused rather than used.
"""

from __future__ import annotations

import hashlib
import os
import stat
from contextlib import suppress
from pathlib import Path

from tripwire._errors import AuditError

__all__ = [
    "KEY_BYTES",
    "KEY_ENV",
    "default_key_path",
    "key_fingerprint",
    "load_key",
    "load_or_create_key",
]

KEY_BYTES = 32
"""Length of a checkpoint key."""

KEY_ENV = "TRIPWIRE_AUDIT_KEY"
"""Environment variable naming the key file; overrides the default location."""


def default_key_path() -> Path:
    """`$TRIPWIRE_AUDIT_KEY` if set, else `~/.config/tripwire/audit.key`."""
    env = os.environ.get(KEY_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".config" / "tripwire" / "audit.key"


def key_fingerprint(key: bytes) -> str:
    """A short public name for a key (first 16 hex of SHA-256 of a domain tag and the key).

    Stored in each checkpoint so that verifying with the wrong key file says so instead of
    calling every checkpoint forged. It reveals nothing usable about the key.
    """
    return hashlib.sha256(b"tripwire-audit-key-id\0" + key).hexdigest()[:16]


def load_key(path: Path) -> bytes:
    """Read an existing key file, refusing one that others could read.

    Args:
        path: The key file.

    Returns:
        The 32-byte key.

    Raises:
        AuditError: The file is missing, unreadable, group/other-accessible or not 32 bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as ex:
        raise AuditError(
            f"cannot read audit key {path}: {ex.strerror}; "
            "pass the key file the log was written with (--key-file)"
        ) from ex
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise AuditError(f"audit key {path} is not a regular file")
        if st.st_mode & 0o077:
            raise AuditError(
                f"audit key {path} has mode {stat.S_IMODE(st.st_mode):04o}: others may read "
                f"it, so its checkpoints prove nothing; run 'chmod 600 {path}' and, if an "
                "agent could have read it, create a new key"
            )
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise AuditError(
            f"audit key {path} holds {len(key)} bytes, expected {KEY_BYTES}: "
            "it is not a tripwire audit key; point to the right file or delete it to make one"
        )
    return key


def load_or_create_key(path: Path | None = None) -> bytes:
    """Load the checkpoint key, creating it (mode 0600) if it does not exist yet.

    Args:
        path: The key file; `default_key_path()` when None.

    Returns:
        The 32-byte key.

    Raises:
        AuditError: The key cannot be created, or the existing file is unsafe or invalid.
    """
    path = default_key_path() if path is None else path
    if not path.exists():
        _create(path)
    return load_key(path)


def _create(path: Path) -> None:
    """Write a fresh key under a temporary name, then link it into place atomically."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as ex:
        raise AuditError(f"cannot create audit key {path}: {ex.strerror}") from ex
    try:
        try:
            os.fchmod(fd, 0o600)  # O_CREAT's mode is masked by umask; this is not
            os.write(fd, os.urandom(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        with suppress(FileExistsError):  # another process made the key first: use theirs
            os.link(tmp, path)
    except OSError as ex:
        raise AuditError(f"cannot create audit key {path}: {ex.strerror}") from ex
    finally:
        tmp.unlink(missing_ok=True)
