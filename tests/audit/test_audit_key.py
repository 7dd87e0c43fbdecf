import multiprocessing
import os
import stat

import pytest

from tripwire._errors import AuditError
from tripwire.audit import (
    AuditLog,
    default_key_path,
    key_fingerprint,
    load_key,
    load_or_create_key,
    verify_log,
)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the most permissive umask: creation must still give 0600
    yield
    os.umask(old)


def test_new_key_is_32_random_bytes_mode_0600_even_with_umask_0(tmp_path, open_umask):
    path = tmp_path / "conf" / "audit.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path) == key  # second call loads, does not replace
    assert load_or_create_key(tmp_path / "other.key") != key
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temp file left


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_key_others_can_access_is_refused_with_the_fix(tmp_path, mode):
    path = tmp_path / "audit.key"
    load_or_create_key(path)
    path.chmod(mode)
    with pytest.raises(AuditError, match="chmod 600"):
        load_key(path)
    with pytest.raises(AuditError, match="chmod 600"):
        AuditLog(tmp_path / "a.jsonl", key_file=path)


def test_key_of_wrong_length_is_refused(tmp_path):
    path = tmp_path / "audit.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(AuditError, match="5 bytes, expected 32"):
        load_key(path)


def test_missing_key_says_which_file(tmp_path):
    with pytest.raises(AuditError, match="nope.key"):
        load_key(tmp_path / "nope.key")


def test_default_key_path_follows_env_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIPWIRE_AUDIT_KEY", str(tmp_path / "k"))
    assert default_key_path() == tmp_path / "k"
    monkeypatch.delenv("TRIPWIRE_AUDIT_KEY")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_key_path() == tmp_path / "home" / ".config" / "tripwire" / "audit.key"


def _create(path, queue):
    queue.put(load_or_create_key(path))


def test_processes_racing_to_create_the_key_share_one(tmp_path):
    path = tmp_path / "audit.key"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_create, args=(path, queue)) for _ in range(6)]
    for proc in procs:
        proc.start()
    keys = {queue.get(timeout=30) for _ in procs}
    for proc in procs:
        proc.join(30)
    assert keys == {path.read_bytes()}


def test_log_with_key_file_signs_checkpoints_the_key_verifies(tmp_path):
    key_path = tmp_path / "audit.key"
    with AuditLog(tmp_path / "a.jsonl", key_file=key_path, checkpoint_every=3) as log:
        for i in range(7):
            log.append("e", {"i": i})
    key = load_key(key_path)
    report = verify_log(tmp_path / "a.jsonl", key=key)
    assert report.ok and report.checkpoints == 2
    assert key_fingerprint(key) != key_fingerprint(os.urandom(32))
    assert key.hex()[:16] != key_fingerprint(key)
