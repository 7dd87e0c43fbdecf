"""Audit log throughput against a plain JSONL append, in one run (SPEC §11).

Targets: >= 20,000 appends/s batched; verify >= 100,000 records/s. The baseline is
`f.write(json.dumps(r) + "\\n")` on a buffered file (no chain, no lock, no fsync), so
the ratios show what the chain, the lock and durability cost. `fsync="always"` is
bounded by the disk's sync latency, so it runs fewer records; pass `--dir` to measure
on the disk the logs will really live on (the default is the system temp dir).

Run: `.venv/bin/python bench/audit_log.py [--records 50000] [--always 2000] [--dir D]`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tripwire.audit import AuditLog, verify_log

KEY = bytes(range(32))


def _data(i: int) -> dict[str, object]:
    """A typical guard decision."""
    return {
        "tool": "bash",
        "arguments": {"command": f"cat notes/{i}.md | grep -n TODO"},
        "action": "allow",
        "rule": "default",
        "reason": "no rule matched",
        "session": "s-1",
    }


def baseline(path: Path, n: int) -> float:
    start = time.perf_counter()
    with open(path, "w") as f:
        for i in range(n):
            r = {"seq": i, "time": time.time(), "kind": "decision", "data": _data(i)}
            f.write(json.dumps(r) + "\n")
    return n / (time.perf_counter() - start)


def ours(path: Path, n: int, fsync: str) -> float:
    start = time.perf_counter()
    with AuditLog(path, key=KEY, fsync=fsync) as log:  # type: ignore[arg-type]
        for i in range(n):
            log.append("decision", _data(i))
    return n / (time.perf_counter() - start)


def verify(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    report = verify_log(path, key=KEY)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    return report.records / elapsed, report.records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--always", type=int, default=2_000, help="records for fsync=always")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        base = baseline(d / "plain.jsonl", args.records)
        batched = ours(d / "batch.jsonl", args.records, "batch")
        never = ours(d / "never.jsonl", args.records, "never")
        always = ours(d / "always.jsonl", args.always, "always")
        verified, records = verify(d / "batch.jsonl")
    print(f"records: {args.records} ({args.always} for fsync=always), dir: {args.dir or 'tmp'}")
    print(f"{'plain JSONL append (baseline)':34} {base:>12,.0f} /s   1.00x")
    for name, rate in (
        ("ours, fsync=batch", batched),
        ("ours, fsync=never", never),
        ("ours, fsync=always", always),
    ):
        print(f"{name:34} {rate:>12,.0f} /s   {rate / base:.2f}x baseline")
    print(f"{'verify (with key)':34} {verified:>12,.0f} records/s over {records} records")
    print(
        f"targets: batched >= 20,000/s: {'met' if batched >= 20_000 else 'MISSED'}; "
        f"verify >= 100,000/s: {'met' if verified >= 100_000 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
