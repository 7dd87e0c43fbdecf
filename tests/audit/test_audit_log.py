import os
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from audit_tamper import parse, read_lines

from tripwire import ConfigError
from tripwire._errors import AuditError
from tripwire.audit import AuditLog, verify_log

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")


def kinds(path):
    return [parse(line)["kind"] for line in read_lines(path)]


def test_always_mode_returns_written_chained_records(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, fsync="always") as log:
        first = log.append("decision", {"n": 1})
        second = log.append("decision", {"n": 2})
        assert first.written and (first.seq, second.seq) == (0, 1)
        assert second.prev == first.hash
        assert len(read_lines(path)) == 2  # on disk before close
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_batched_records_are_pending_until_written(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path, batch_size=3, batch_seconds=60)
    a = log.append("e", {"i": 0})
    b = log.append("e", {"i": 1})
    assert a.seq is None and a.hash is None and not path.read_bytes()
    c = log.append("e", {"i": 2})  # third fills the batch
    assert [a.seq, b.seq, c.seq] == [0, 1, 2] and c.prev == b.hash
    d = log.append("e", {"i": 3})
    assert d.seq is None
    log.flush()
    assert d.seq == 3 and len(read_lines(path)) == 4
    log.close()
    assert verify_log(path).ok


def test_batch_seconds_bounds_how_long_a_record_waits(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, batch_size=1000, batch_seconds=0.05) as log:
        first = log.append("e", {})
        time.sleep(0.08)
        log.append("e", {})
        assert first.written and len(read_lines(path)) == 2


def test_data_is_snapshotted_at_append(tmp_path):
    path = tmp_path / "a.jsonl"
    data = {"cmd": "ls"}
    with AuditLog(path) as log:
        log.append("e", data)
        data["cmd"] = "rm -rf /"
    assert parse(read_lines(path)[0])["data"] == {"cmd": "ls"}


def test_checkpoints_take_multiples_of_checkpoint_every(tmp_path, key):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, key=key, checkpoint_every=4) as log:
        for i in range(10):
            log.append("e", {"i": i})
        log.checkpoint()
        log.checkpoint()  # nothing new since: no second one
    assert [i for i, k in enumerate(kinds(path)) if k == "checkpoint"] == [4, 8, 12]
    report = verify_log(path, key=key)
    assert report.ok and report.checkpoints == 3 and report.uncovered == 0


def test_reopening_continues_the_chain(tmp_path, key):
    path = tmp_path / "a.jsonl"
    for round_ in range(3):
        with AuditLog(path, key=key, checkpoint_every=5) as log:
            for i in range(4):
                log.append("e", {"round": round_, "i": i})
    assert [parse(line)["seq"] for line in read_lines(path)] == list(range(14))
    assert verify_log(path, key=key).ok


def test_checkpoint_without_key_is_refused(tmp_path):
    with AuditLog(tmp_path / "a.jsonl") as log, pytest.raises(AuditError, match="no key"):
        log.checkpoint()


@pytest.mark.parametrize(
    ("kind", "data", "match"),
    [
        ("checkpoint", {}, "reserved"),
        ("torn-tail-recovered", {}, "reserved"),
        ("e", {"x": object()}, "not JSON"),
        ("e", {"x": float("nan")}, "not JSON"),
        ("e", ["not", "a", "dict"], "must be a dict"),
    ],
)
def test_bad_appends_are_refused_at_the_call(tmp_path, kind, data, match):
    with AuditLog(tmp_path / "a.jsonl") as log, pytest.raises(AuditError, match=match):
        log.append(kind, data)


def test_bad_settings_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        AuditLog(tmp_path / "a.jsonl", fsync="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        AuditLog(tmp_path / "a.jsonl", checkpoint_every=1)
    with pytest.raises(ConfigError):
        AuditLog(tmp_path / "a.jsonl", key=b"short")


def test_torn_tail_is_terminated_and_recorded_on_open(tmp_path, key):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, key=key, fsync="always") as log:
        for i in range(5):
            log.append("e", {"i": i})
    good = path.read_bytes()
    path.write_bytes(good + b'{"data":{"i":5},"kind":"e","pr')  # a writer died mid-line
    assert verify_log(path, key=key).torn_tail
    with AuditLog(path, key=key, fsync="always") as log:
        after = log.append("e", {"i": 6})
    lines = read_lines(path)
    assert lines[:5] == read_lines_bytes(good)
    assert lines[5] == b'{"data":{"i":5},"kind":"e","pr\n'
    recovery = parse(lines[6])
    assert recovery["kind"] == "torn-tail-recovered"
    assert recovery["data"] == {"offset": len(good), "length": 30}
    assert recovery["prev"] == parse(lines[4])["hash"] and recovery["seq"] == 5
    assert after.seq == 6 and after.prev == recovery["hash"]
    report = verify_log(path, key=key)
    assert report.ok and not report.torn_tail and report.recovered == [len(good)]


def read_lines_bytes(data):
    return data.splitlines(keepends=True)


def test_torn_line_that_only_lost_its_newline_is_recovered(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, fsync="always") as log:
        for i in range(3):
            log.append("e", {"i": i})
    path.write_bytes(path.read_bytes()[:-1])
    with AuditLog(path, fsync="always") as log:
        log.append("e", {"i": 3})
    assert kinds(path) == ["e", "e", "e", "torn-tail-recovered", "e"]
    report = verify_log(path)
    assert report.ok and report.records == 4 and len(report.recovered) == 1


def test_log_of_only_a_torn_line_recovers_from_genesis(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"data":{')
    with AuditLog(path) as log:
        log.append("e", {})
    lines = read_lines(path)
    assert lines[0] == b'{"data":{\n'
    assert [parse(line)["kind"] for line in lines[1:]] == ["torn-tail-recovered", "e"]
    assert verify_log(path).ok


def test_tail_is_read_from_the_end_not_the_whole_file(tmp_path, monkeypatch):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, fsync="never", batch_size=1000) as log:
        for i in range(20_000):
            log.append("e", {"i": i, "pad": "x" * 100})
    size = path.stat().st_size
    read = []
    real_pread = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, off: read.append(n) or real_pread(fd, n, off))
    with AuditLog(path, fsync="never") as log:
        record = log.append("e", {"after": True})
    assert record.seq == 20_000
    assert sum(read) <= 4096 < size // 100


def test_huge_last_record_is_found(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        log.append("e", {"blob": "y" * 100_000})
    with AuditLog(path) as log:
        log.append("e", {})
    assert verify_log(path).ok and verify_log(path).records == 2


def test_writer_refuses_to_chain_onto_a_tampered_last_record(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path) as log:
        log.append("e", {"tool": "bash"})
    path.write_bytes(path.read_bytes().replace(b"bash", b"sh!!"))
    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(AuditError, match="audit verify"):
        AuditLog(path)
    assert len(os.listdir("/proc/self/fd")) == fds  # the refused file is not left open


def test_replaced_file_is_refused(tmp_path):
    path = tmp_path / "a.jsonl"
    log = AuditLog(path, fsync="always")
    log.append("e", {})
    path.rename(tmp_path / "moved.jsonl")
    with pytest.raises(AuditError, match="deleted, moved or replaced"):
        log.append("e", {})
    log.close()


def test_log_used_after_fork_refuses(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl", fsync="always")
    log._pid = -1  # what a forked child sees
    with pytest.raises(AuditError, match="forked"):
        log.append("e", {})


def test_closed_log_refuses_appends(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl", fsync="always")
    log.close()
    log.close()  # idempotent
    assert log.closed
    with pytest.raises(AuditError, match="closed"):
        log.append("e", {})


def test_buffered_records_are_flushed_at_normal_exit(tmp_path):
    path = tmp_path / "a.jsonl"
    code = f"""
        from tripwire.audit import AuditLog
        log = AuditLog({str(path)!r}, batch_size=1000, batch_seconds=60)
        for i in range(10):
            log.append("e", {{"i": i}})
    """
    env = {**os.environ, "PYTHONPATH": SRC}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, check=True)
    assert len(read_lines(path)) == 10 and verify_log(path).ok


def test_threads_sharing_one_log_keep_one_chain(tmp_path):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, batch_size=7) as log:

        def work(t):
            for i in range(300):
                log.append("e", {"t": t, "i": i})

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    seen = sorted((parse(line)["data"]["t"], parse(line)["data"]["i"]) for line in read_lines(path))
    assert seen == [(t, i) for t in range(4) for i in range(300)]
    assert verify_log(path).ok


def test_two_logs_on_one_file_in_one_process_interleave_safely(tmp_path, key):
    path = tmp_path / "a.jsonl"
    one = AuditLog(path, key=key, fsync="never", batch_size=5, checkpoint_every=7)
    two = AuditLog(path, key=key, fsync="always", checkpoint_every=7)
    for i in range(40):
        one.append("one", {"i": i})
        two.append("two", {"i": i})
    one.close()
    two.close()
    report = verify_log(path, key=key)
    found = kinds(path)
    assert found.count("one") == found.count("two") == 40
    assert [i for i, k in enumerate(found) if k == "checkpoint"] == list(range(7, len(found), 7))
    assert report.ok and report.checkpoints == len(range(7, len(found), 7))
