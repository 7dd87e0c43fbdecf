"""Fakes for the hook tests: a guard and an audit log that record, fail or stall."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import tripwire
from tripwire.guard import Decision

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(tripwire.__file__).resolve().parents[1]  # the tree under test, for subprocesses
EVENTS = Path(__file__).parent / "data" / "hook_events"


def event_bytes(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def event_dict(name: str) -> dict:
    return json.loads(event_bytes(name))


class FakeGuard:
    """Answers every call with one decision; can raise or stall instead."""

    def __init__(
        self, action="allow", rule="fake-rule", reason="fake reason", raises=None, delay=0.0
    ):
        self.decision = Decision(action=action, rule=rule, reason=reason)
        self.raises = raises
        self.delay = delay
        self.calls = []
        self.lock = threading.Lock()

    def check(self, call):
        with self.lock:
            self.calls.append(call)
        if self.delay:
            time.sleep(self.delay)
        if self.raises is not None:
            raise self.raises
        return self.decision


class FakeAudit:
    """Keeps appended records; can fail on append or on close."""

    def __init__(self, fail_append=None, fail_close=None):
        self.records = []
        self.fail_append = fail_append
        self.fail_close = fail_close
        self.closed = False

    def append(self, kind, data):
        if self.fail_append is not None:
            raise self.fail_append
        self.records.append((kind, data))
        return {"kind": kind, "data": data}

    def close(self):
        self.closed = True
        if self.fail_close is not None:
            raise self.fail_close


def cli(args, stdin: bytes | None = b"", timeout=60, **popen):
    """Run `python -m tripwire <args>` from this source tree."""
    return subprocess.run(
        [sys.executable, "-m", "tripwire", *args],
        input=stdin,
        capture_output=True,
        env=cli_env(),
        timeout=timeout,
        cwd=ROOT,
        **popen,
    )


def cli_env():
    return {**os.environ, "PYTHONPATH": str(SRC)}
