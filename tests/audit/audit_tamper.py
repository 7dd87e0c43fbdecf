"""Test helpers that tamper with logs, written from SPEC §8 with hashlib/hmac/json only,
so they also check that the library follows the published definition."""

import hashlib
import hmac
import json

GENESIS = "0" * 64


def read_lines(path):
    return path.read_bytes().splitlines(keepends=True)


def write_lines(path, lines):
    path.write_bytes(b"".join(lines))


def parse(line):
    return json.loads(line)


def canonical(record):
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def seal(record):
    """Recompute a record's hash from its prev and content; return its line."""
    record = dict(record)
    record["hash"] = hashlib.sha256(record["prev"].encode() + canonical(record)).hexdigest()
    body = canonical(record)
    return body[:-1] + f',"hash":"{record["hash"]}"}}\n'.encode()


def sign(key, through_seq, through_hash):
    message = f"tripwire-audit-checkpoint\0{through_seq}\0{through_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def rechain(lines, start, *, edit=None, update_checkpoints=False, resign_key=None):
    """Rewrite lines[start:] as a forger would: apply `edit` to the record at `start`,
    then recompute every later prev and hash so the chain is consistent again.

    `update_checkpoints` also points each later checkpoint at the new chain (keeping its
    old HMAC); `resign_key` re-signs them with that key (and its key id)."""
    out = list(lines[:start])
    prev = parse(out[-1])["hash"] if out else GENESIS
    for i, line in enumerate(lines[start:]):
        record = parse(line)
        if i == 0 and edit is not None:
            edit(record)
        record["prev"] = prev
        if record["kind"] == "checkpoint" and (update_checkpoints or resign_key):
            record["data"]["through_hash"] = prev
            if resign_key is not None:
                record["data"]["hmac"] = sign(resign_key, record["data"]["through_seq"], prev)
                record["data"]["key_id"] = hashlib.sha256(
                    b"tripwire-audit-key-id\0" + resign_key
                ).hexdigest()[:16]
        new = seal(record)
        prev = parse(new)["hash"]
        out.append(new)
    return out
