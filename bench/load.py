"""The quick suite under load: scripted agents only, high concurrency, 10x the samples (issue 13).

Every evaluation's quick size is run by the scripted reference agents (honest,
schemer, garbled: no model weights, so the harness, sandboxes and scorers are what
is loaded) for `--epochs` epochs (10 = ten times the default sample count), all of
an evaluation's agents at once and `--concurrency` samples, sandboxes and sandbox
commands at a time. Reported: episodes/s, peak memory (this process and its
largest child), and the count check: every planned (agent, sample, epoch) comes
back exactly once, from the run and from the logs on disk, with errors counted.
Exits 1 if a sample was lost, duplicated or invented.

Run: `.venv/bin/python bench/load.py [--epochs 10] [--concurrency 16] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _rows import Row, Target  # noqa: E402

from tripwire._catalog import Evaluation, all_evaluations  # noqa: E402
from tripwire._suite import EvalBatch, run_batches  # noqa: E402
from tripwire.results import ResultRow, rows_from_log_dir  # noqa: E402
from tripwire.stats import HONEST_AGENT, SCHEMER_AGENT  # noqa: E402
from tripwire.stats._calibration import GARBLED_AGENT  # noqa: E402

AGENTS = [HONEST_AGENT, SCHEMER_AGENT, GARBLED_AGENT]

SECTION = "harness"
ROWS: dict[str, str] = {"suite episodes/s, scripted agents, bwrap": "episodes/s"}
QUICK_EVALUATIONS = ("oversight-subversion", "self-exfiltration")
"""The race's quick mode runs these two evaluations only."""

Key = tuple[str, str, str, int]
"""(scenario, model, sample id, epoch): one episode."""


@dataclass
class Tally:
    """How the episodes that came back compare with those planned."""

    planned: int
    returned: int
    missing: list[Key]
    duplicated: list[Key]
    unplanned: list[Key]
    outcomes: Counter[str]

    @property
    def ok(self) -> bool:
        """Every planned episode came back exactly once, and nothing else did."""
        return not (self.missing or self.duplicated or self.unplanned) and (
            self.planned == self.returned
        )


def planned_keys(batches: Iterable[EvalBatch]) -> list[Key]:
    """Every episode the batches should produce."""
    return [
        (_scenario(batch, sample.metadata), model, str(sample.id), epoch)
        for batch in batches
        for model in batch.models
        for sample in batch.task.dataset
        for epoch in range(1, batch.epochs + 1)
    ]


def _scenario(batch: EvalBatch, metadata: dict[str, Any] | None) -> str:
    # As result rows name it: the sample's scenario, else the task's.
    task = (batch.task.metadata or {}).get("scenario", batch.task.name)
    return str((metadata or {}).get("scenario", task))


def tally(planned: Sequence[Key], rows: Sequence[ResultRow]) -> Tally:
    """Compare the rows that came back with the planned episodes."""
    seen = Counter((row.scenario, row.model, row.sample_id, row.epoch) for row in rows)
    wanted = set(planned)
    return Tally(
        planned=len(planned),
        returned=len(rows),
        missing=sorted(wanted - set(seen)),
        duplicated=sorted(key for key, n in seen.items() if n > 1),
        unplanned=sorted(set(seen) - wanted),
        outcomes=Counter(row.outcome for row in rows),
    )


def plan(
    evaluations: Iterable[Evaluation], epochs: int, concurrency: int, sandbox: str
) -> list[EvalBatch]:
    """One batch per evaluation: its quick size, every scripted agent at once."""
    return [
        EvalBatch(
            label=item.name,
            task=item.task(**(item.quick | {"sandbox": sandbox})),
            models=list(AGENTS),
            epochs=epochs,
            max_samples=concurrency,
            max_sandboxes=concurrency,
            max_subprocesses=concurrency,
        )
        for item in evaluations
    ]


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, child / 1024  # ru_maxrss is in KB on Linux


def report(name: str, result: Tally) -> None:
    print(
        f"{name}: planned {result.planned}, returned {result.returned}, "
        f"missing {len(result.missing)}, duplicated {len(result.duplicated)}, "
        f"unplanned {len(result.unplanned)}; outcomes {dict(result.outcomes)}"
    )
    for label, keys in (
        ("missing", result.missing),
        ("duplicated", result.duplicated),
        ("unplanned", result.unplanned),
    ):
        for key in keys[:5]:
            print(f"  {label}: {key}")


def measure(quick: bool) -> list[Row]:
    """Episodes/s of the suite's quick size at default concurrency (8 per CPU), 1 epoch.

    Raises:
        RuntimeError: If an episode was lost, duplicated or invented.
    """
    evaluations = all_evaluations()
    if quick:
        evaluations = [item for item in evaluations if item.name in QUICK_EVALUATIONS]
    concurrency = 8 * (os.cpu_count() or 1)
    batches = plan(evaluations, 1, concurrency, "bwrap")
    planned = planned_keys(batches)
    with tempfile.TemporaryDirectory(prefix="tripwire-bench-load-") as log_dir:
        started = time.monotonic()
        run = run_batches(batches, Path(log_dir))
        elapsed = time.monotonic() - started
    counted = tally(planned, run.rows)
    if not counted.ok:
        raise RuntimeError(
            f"count mismatch: planned {counted.planned}, returned {counted.returned}"
        )
    return [
        Row(
            section=SECTION,
            what=next(iter(ROWS)),
            unit="episodes/s",
            ours=len(run.rows) / elapsed,
            target=Target(on="ours", op=">=", value=20.0),
            note=(
                f"{len(run.rows)} episodes, {len(batches)} evaluations x {len(AGENTS)} agents, "
                f"concurrency {concurrency}, {elapsed:.0f} s"
            ),
        )  # fmt: skip
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="Epochs (10 = 10x the samples).")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8 * (os.cpu_count() or 1),
        help="Samples, sandboxes and sandbox commands at once (default 8 per CPU).",
    )
    parser.add_argument("--sandbox", default="bwrap", help="Sandbox provider.")
    parser.add_argument("--only", help="Comma-separated evaluations (default: all).")
    parser.add_argument("--out", type=Path, help="Log directory (default: a temporary one).")
    args = parser.parse_args()

    evaluations = all_evaluations()
    if args.only:
        names = set(args.only.split(","))
        evaluations = [item for item in evaluations if item.name in names]
    batches = plan(evaluations, args.epochs, args.concurrency, args.sandbox)
    planned = planned_keys(batches)
    log_dir = args.out or Path(tempfile.mkdtemp(prefix="tripwire-load-"))
    print(
        f"{len(planned)} episodes: {len(batches)} evaluations x {len(AGENTS)} agents x "
        f"{args.epochs} epochs, concurrency {args.concurrency}, {os.cpu_count()} CPUs, "
        f"sandbox {args.sandbox}, logs in {log_dir}",
        flush=True,
    )
    started = time.monotonic()
    run = run_batches(batches, log_dir, on_end=lambda b: print(f"  done {b.label}", flush=True))
    elapsed = time.monotonic() - started
    own, child = peak_rss_mb()

    from_run = tally(planned, run.rows)
    from_logs = tally(planned, rows_from_log_dir(log_dir))
    print(f"wall {elapsed:.0f} s, {len(run.rows) / elapsed:.2f} episodes/s")
    print(f"peak RSS: harness {own:.0f} MB, largest child {child:.0f} MB")
    report("from the run", from_run)
    report("from the logs", from_logs)
    for error in run.eval_errors:
        print(f"  eval failed: {error}")
    if args.out is None:
        shutil.rmtree(log_dir, ignore_errors=True)
    ok = from_run.ok and from_logs.ok
    print("n in == n out" if ok else "COUNT MISMATCH: a sample was lost, duplicated or invented")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
