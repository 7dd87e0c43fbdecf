import os

import pytest


@pytest.fixture(autouse=True)
def no_user_key(monkeypatch, tmp_path):
    """Never read or create a key under the real ~/.config during tests."""
    monkeypatch.setenv("TRIPWIRE_AUDIT_KEY", str(tmp_path / "no-such-dir" / "audit.key"))


@pytest.fixture
def key():
    return os.urandom(32)
