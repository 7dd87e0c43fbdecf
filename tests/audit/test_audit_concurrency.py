import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from contextlib import suppress

import pytest
from audit_tamper import parse, read_lines

from tripwire.audit import AuditLog, verify_log

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
WRITERS = 6


def _writer(path, key, fsync, n, writer, start):
    start.wait()
    with AuditLog(path, key=key, fsync=fsync, batch_size=16, checkpoint_every=50) as log:
        for i in range(n):
            log.append("call", {"writer": writer, "i": i})


@pytest.mark.parametrize(("fsync", "n"), [("batch", 400), ("always", 60), ("never", 400)])
def test_concurrent_writers_keep_one_whole_chain(tmp_path, key, fsync, n):
    path = tmp_path / "audit.jsonl"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_writer, args=(path, key, fsync, n, w, start)) for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    report = verify_log(path, key=key)
    assert report.ok and not report.torn_tail, report.summary()
    records = [parse(line) for line in read_lines(path)]
    calls = Counter((r["data"]["writer"], r["data"]["i"]) for r in records if r["kind"] == "call")
    assert set(calls) == {(w, i) for w in range(WRITERS) for i in range(n)}
    assert max(calls.values()) == 1
    assert report.records == len(records) == WRITERS * n + report.checkpoints
    # the writers really interleaved: more runs of one writer than writers
    order = [r["data"]["writer"] for r in records if r["kind"] == "call"]
    assert sum(a != b for a, b in zip(order, order[1:], strict=False)) > WRITERS


CHILD = """
    import sys
    from tripwire.audit import AuditLog
    path, key = sys.argv[1], bytes.fromhex(sys.argv[2])
    log = AuditLog(path, key=key, fsync="always", checkpoint_every=25)
    i = 0
    while True:
        # now and then a large record, so a kill can land inside a long write
        pad = "x" * (1 << 20) if i % 9 == 4 else ""
        record = log.append("tick", {"pid": log._pid, "i": i, "pad": pad})
        print(record.seq, flush=True)
        i += 1
"""


def test_kill_9_mid_append_loses_nothing_committed(tmp_path, key):
    path = tmp_path / "audit.jsonl"
    env = {**os.environ, "PYTHONPATH": SRC}
    rng = random.Random(1234)
    committed: list[int] = []
    for _ in range(5):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CHILD), str(path), key.hex()],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # started and appending
        time.sleep(rng.uniform(0.01, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        committed += [int(x) for x in (first + child.stdout.read()).split()]
        report = verify_log(path, key=key)
        assert report.ok, report.summary()  # a torn tail at most
        assert report.problem in (None, "torn-tail")
    assert len(committed) > 5
    with AuditLog(path, key=key) as log:  # a new writer recovers any torn tail
        log.append("after", {})
    report = verify_log(path, key=key)
    assert report.ok and not report.torn_tail
    seqs = set()
    for line in read_lines(path):
        with suppress(ValueError):  # a torn line a later writer ended and recorded
            seqs.add(parse(line)["seq"])
    assert set(committed) <= seqs
    assert len(seqs) == len(read_lines(path)) - len(report.recovered)
    assert len(committed) == len(set(committed))


HALF_WRITER = """
    import os, sys, time
    from tripwire.audit import AuditLog, _log
    path = sys.argv[1]
    log = AuditLog(path, fsync="always")
    for i in range(3):
        print(log.append("tick", {"i": i}).seq, flush=True)

    def half_write(fd, blob):  # the kernel stops mid-line: write half, then hang
        os.write(fd, blob[: len(blob) // 2])
        print("half", flush=True)
        time.sleep(60)

    _log.AuditLog._write_all = staticmethod(half_write)
    log.append("tick", {"i": 3, "pad": "y" * 5000})
"""


def test_kill_9_in_the_middle_of_a_line_is_recovered(tmp_path):
    path = tmp_path / "audit.jsonl"
    env = {**os.environ, "PYTHONPATH": SRC}
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HALF_WRITER), str(path)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None
    out = [child.stdout.readline().strip() for _ in range(4)]
    child.send_signal(signal.SIGKILL)  # holding the lock, half a line written
    child.wait()
    assert out == ["0", "1", "2", "half"]
    torn = verify_log(path)
    assert torn.ok and torn.torn_tail and torn.records == 3
    with AuditLog(path, fsync="always") as log:  # the lock died with the child
        assert log.append("after", {}).seq == 4
    report = verify_log(path)
    assert report.ok and report.records == 5 and report.recovered == [torn.torn_offset]
