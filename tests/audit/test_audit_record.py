import hashlib
import json
import math

import pytest
from audit_tamper import canonical, parse, read_lines, seal

from tripwire.audit import GENESIS, AuditLog, canonical_json, chain_hash


def test_canonical_json_is_sorted_compact_utf8_and_excludes_hash():
    record = {
        "seq": 3,
        "kind": "k",
        "hash": "x" * 64,
        "data": {"b": [1, {"z": 1, "a": 2}], "a": "é☃"},
    }
    assert (
        canonical_json(record)
        == '{"data":{"a":"é☃","b":[1,{"a":2,"z":1}]},"kind":"k","seq":3}'.encode()
    )


def test_canonical_json_refuses_nan():
    with pytest.raises(ValueError):
        canonical_json({"data": {"x": math.nan}})


def test_written_lines_follow_the_published_definition(tmp_path, key):
    path = tmp_path / "a.jsonl"
    with AuditLog(path, key=key, fsync="never", checkpoint_every=3) as log:
        for i in range(7):
            log.append("event", {"i": i, "text": "naïve ✓", "nested": {"b": 1, "a": [True, None]}})
    prev = GENESIS
    for n, line in enumerate(read_lines(path)):
        record = parse(line)
        assert record["seq"] == n
        assert record["prev"] == prev
        # hash = SHA-256(prev || canonical JSON without hash), computed here independently
        expected = hashlib.sha256(prev.encode() + canonical(record)).hexdigest()
        assert record["hash"] == expected == chain_hash(prev, canonical_json(record))
        assert line == seal(record)  # the stored bytes are canonical JSON + hash last
        assert "naïve".encode() in line or record["kind"] == "checkpoint"  # not \\u-escaped
        prev = record["hash"]
    assert json.loads(read_lines(path)[3])["kind"] == "checkpoint"
