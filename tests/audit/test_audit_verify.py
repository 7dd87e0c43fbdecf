import json

import pytest
from audit_tamper import parse, read_lines, rechain, seal, write_lines

from tripwire.audit import AuditLog, verify_log

N = 35  # with checkpoint_every=10: checkpoints at seq 10, 20, 30 (lines 11, 21, 31)


@pytest.fixture
def log_path(tmp_path, key):
    path = tmp_path / "audit.jsonl"
    with AuditLog(path, key=key, checkpoint_every=10) as log:
        for i in range(N):
            log.append("decision", {"i": i, "tool": "bash"})
    return path


def line_of(lines, seq):
    return next(n for n, line in enumerate(lines, 1) if parse(line)["seq"] == seq)


def test_clean_log_verifies(log_path, key):
    report = verify_log(log_path, key=key)
    assert report.ok and report.problem is None
    assert report.records == N + 3
    assert report.checkpoints == 3
    assert report.uncovered == 7  # seq 31..37 come after the last checkpoint (seq 30)
    assert report.summary().startswith(f"OK: {N + 3} records, 3 checkpoints verified")
    assert "7 records after the last verified checkpoint" in report.summary()


def test_without_key_checkpoints_are_unchecked_not_ok(log_path):
    report = verify_log(log_path, key=None)
    assert report.ok
    assert report.checkpoints == 0 and report.checkpoints_unchecked == 3
    assert report.uncovered == N
    assert "3 checkpoints unchecked" in report.summary()


def test_edited_field_is_altered(log_path, key):
    lines = read_lines(log_path)
    lines[4] = lines[4].replace(b'"tool":"bash"', b'"tool":"rm"')
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert not report.ok
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("altered", 5, 4)
    assert report.records == 4


def test_edited_and_rehashed_record_is_altered_at_its_line(log_path, key):
    lines = read_lines(log_path)
    record = parse(lines[6])
    record["data"]["tool"] = "rm"
    lines[6] = seal(record)
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("altered", 7, 6)
    assert "re-hashed" in report.detail


def test_reformatted_bytes_are_altered(log_path, key):
    lines = read_lines(log_path)
    lines[2] = lines[2].replace(b'"kind":', b'"kind": ')
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad) == ("altered", 3)
    assert "reformatted" in report.detail


@pytest.mark.parametrize("index", [0, 5, 20])
def test_deleted_record_is_removed(log_path, key, index):
    lines = read_lines(log_path)
    seq = parse(lines[index])["seq"]
    del lines[index]
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == (
        "removed",
        index + 1,
        seq + 1,
    )
    assert f"seq {seq} missing" in report.detail


def test_swapped_records_are_reordered(log_path, key):
    lines = read_lines(log_path)
    lines[7], lines[8] = lines[8], lines[7]
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("reordered", 8, 8)


def test_record_moved_later_is_reordered(log_path, key):
    lines = read_lines(log_path)
    moved = lines.pop(3)
    lines.insert(9, moved)
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad) == ("reordered", 4)
    assert "seq 3" in report.detail


def test_inserted_record_that_chains_is_inserted(log_path, key):
    lines = read_lines(log_path)
    before = parse(lines[4])
    fake = {**parse(lines[5]), "data": {"i": 999, "tool": "innocent"}, "prev": before["hash"]}
    lines.insert(5, seal(fake))
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("inserted", 6, 5)


def test_inserted_record_with_bogus_prev_is_inserted(log_path, key):
    lines = read_lines(log_path)
    fake = {**parse(lines[5]), "data": {"i": 999}, "prev": "f" * 64}
    lines.insert(5, seal(fake))
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad) == ("inserted", 6)


def test_duplicated_line_is_inserted(log_path, key):
    lines = read_lines(log_path)
    lines.insert(10, lines[9])
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad) == ("inserted", 11)
    assert "copy of line 10" in report.detail


def test_truncated_mid_line_is_a_torn_tail_and_keeps_the_rest(log_path, key):
    data = log_path.read_bytes()
    cut = len(data) - 40
    log_path.write_bytes(data[:cut])
    report = verify_log(log_path, key=key)
    assert report.ok and report.torn_tail
    assert report.problem == "torn-tail"
    assert report.torn_offset == data.rfind(b"\n", 0, cut) + 1
    assert report.records == N + 3 - 1
    assert "warning" in report.summary()


def test_garbage_line_is_malformed(log_path, key):
    lines = read_lines(log_path)
    lines.insert(3, b"not json at all\n")
    write_lines(log_path, lines)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("malformed", 4, None)


@pytest.mark.parametrize("with_key", [True, False])
def test_rewritten_chain_is_forged_even_with_consistent_hashes(log_path, key, with_key):
    lines = read_lines(log_path)
    start = line_of(lines, 15) - 1

    def edit(record):
        record["data"]["tool"] = "rm -rf /"

    forged = rechain(lines, start, edit=edit)
    write_lines(log_path, forged)
    report = verify_log(log_path, key=key if with_key else None)
    assert not report.ok and report.problem == "forged"
    # the checkpoint at seq 20 exposes it; seq 11 is the first after the good one at seq 10
    assert (report.first_bad, report.first_bad_seq) == (line_of(forged, 11), 11)
    assert "checkpoint at line 21" in report.detail


def test_rewritten_chain_with_updated_checkpoints_fails_their_hmac(log_path, key):
    lines = read_lines(log_path)
    start = line_of(lines, 15) - 1
    forged = rechain(
        lines, start, edit=lambda r: r["data"].update(tool="x"), update_checkpoints=True
    )
    write_lines(log_path, forged)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad_seq) == ("forged", 11)
    assert "fails its HMAC" in report.detail
    # without the key only the chain can be checked: not OK-by-silence
    unkeyed = verify_log(log_path, key=None)
    assert unkeyed.ok and unkeyed.checkpoints == 0 and unkeyed.checkpoints_unchecked == 3


def test_checkpoint_forged_with_a_wrong_key_is_bad_checkpoint(log_path, key):
    lines = read_lines(log_path)
    start = line_of(lines, 15) - 1
    forged = rechain(lines, start, edit=lambda r: r["data"].update(tool="x"), resign_key=b"k" * 32)
    write_lines(log_path, forged)
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad, report.first_bad_seq) == ("bad-checkpoint", 21, 20)
    assert "line 12 (seq 11)" in report.detail


def test_checkpoint_appended_by_a_writer_with_another_key_is_bad(log_path, key):
    with AuditLog(log_path, key=b"w" * 32) as log:
        log.checkpoint()
    report = verify_log(log_path, key=key)
    assert (report.problem, report.first_bad) == ("bad-checkpoint", N + 4)
    assert verify_log(log_path, key=b"w" * 32).first_bad == 11  # and vice versa


def test_verifying_with_the_wrong_key_says_so(log_path):
    report = verify_log(log_path, key=b"z" * 32)
    assert (report.problem, report.first_bad) == ("bad-checkpoint", 11)
    assert "--key-file" in report.detail


def test_report_is_json_serialisable(log_path, key):
    lines = read_lines(log_path)
    del lines[2]
    write_lines(log_path, lines)
    data = json.loads(verify_log(log_path, key=key).model_dump_json())
    assert data["ok"] is False and data["problem"] == "removed" and data["first_bad"] == 3
