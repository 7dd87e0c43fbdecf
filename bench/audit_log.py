"""Audit log throughput against a plain JSONL append, in one run (SPEC §11).

Targets: >= 20,000 appends/s batched; verify >= 100,000 records/s. The baseline is
`f.write(json.dumps(r) + "\\n")` on a buffered file (no chain, no lock, no fsync), so
the ratios show what the chain, the lock and durability cost. `fsync="always"` is
bounded by the disk's sync latency, so it runs fewer records; pass `--dir` to measure
on the disk the logs will really live on (the default is the system temp dir).

Verify is raced against reading the plain file back (`json.loads` per line): what
checking a log without a chain amounts to.

Run: `.venv/bin/python bench/audit_log.py [--quick] [--dir D]`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _rows import Row, Target  # noqa: E402

from tripwire.audit import AuditLog, verify_log  # noqa: E402

SECTION = "audit"
ROWS: dict[str, str] = {
    "appends/s fsync=batch vs plain JSONL": "/s",
    "appends/s fsync=never vs plain JSONL": "/s",
    "appends/s fsync=always vs plain JSONL": "/s",
    "verify records/s vs plain JSONL read": "/s",
}

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


def plain_read(path: Path) -> float:
    """Records/s of reading a JSONL file back, one `json.loads` per line."""
    start = time.perf_counter()
    with open(path) as f:
        count = sum(1 for line in f if json.loads(line))
    return count / (time.perf_counter() - start)


def verify(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    report = verify_log(path, key=KEY)
    elapsed = time.perf_counter() - start
    assert report.ok, report.summary()
    return report.records / elapsed, report.records


def measure(quick: bool, directory: Path | None = None) -> list[Row]:
    """Appends/s (three fsync modes) and verify/s, each raced against plain JSONL.

    Each mode runs `rounds` times alternating with the baseline; medians are reported.
    """
    records, always, rounds = (5_000, 200, 2) if quick else (50_000, 2_000, 3)
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        d = Path(tmp)
        for r in range(rounds):
            for mode, n in (("batch", records), ("never", records), ("always", always)):
                rates.setdefault(f"plain/{mode}", []).append(baseline(d / f"p{r}{mode}.jsonl", n))
                rates.setdefault(mode, []).append(ours(d / f"{r}{mode}.jsonl", n, mode))
            rates.setdefault("read", []).append(plain_read(d / f"p{r}batch.jsonl"))
            rates.setdefault("verify", []).append(verify(d / f"{r}batch.jsonl")[0])
    targets = {
        "batch": Target(on="ours", op=">=", value=20_000),
        "verify": Target(on="ours", op=">=", value=100_000),
    }
    rows = []
    for mode, n in (("batch", records), ("never", records), ("always", always)):
        what = f"appends/s fsync={mode} vs plain JSONL"
        rows.append(Row(
            section=SECTION, what=what, unit="/s", ours=statistics.median(rates[mode]),
            baseline=statistics.median(rates[f"plain/{mode}"]), target=targets.get(mode),
            note=f"{n} records, median of {rounds}, dir {directory or 'tmp'}",
        ))  # fmt: skip
    rows.append(Row(
        section=SECTION, what="verify records/s vs plain JSONL read", unit="/s",
        ours=statistics.median(rates["verify"]), baseline=statistics.median(rates["read"]),
        target=targets["verify"], note=f"{records} records, with key",
    ))  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 records instead of 50,000.")
    parser.add_argument("--dir", type=Path, default=None, help="Where the logs are written.")
    args = parser.parse_args()
    from _table import print_table  # noqa: E402

    print_table(measure(args.quick, args.dir))
