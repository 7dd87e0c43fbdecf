"""The race: every bench section in one run, one table of ratios at the end (issue 16).

Each section races tripwire against what a user would pick instead, interleaved in
this process so machine noise hits both sides alike, and returns rows (what, ours,
baseline, unit, ratio, target, met?). A section that cannot run here says
`skipped: <why>`; one that raises says `error: <one line>` and the run goes on. The
exit code is 1 only if a section errored: a missed target is a finding, not a failure.

`--quick` runs small sizes (a few minutes on 2 busy cores; CI uses it and asserts
nothing about absolute times); without it, the full sizes `make bench` runs.

Run: `PYTHONPATH=src .venv/bin/python bench/run.py [--quick] [--json FILE] [--only a,b]`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _rows import Row, Skipped, skipped_rows  # noqa: E402
from _table import format_table, write_json  # noqa: E402

SECTIONS: dict[str, tuple[str, ...]] = {
    "audit": ("audit_log",),
    "guard": ("guard_check",),
    "sandbox": ("bwrap_vs_local",),
    "harness": ("load", "harness_overhead"),
    "embedded": ("embedded_model",),
    "lab": ("lab_speed",),
}
"""Section name -> the bench modules whose `measure(quick)` make its rows, in run order."""


def expected_rows() -> dict[str, dict[str, str]]:
    """Rows the race reports, module -> {what: unit}, for every module that imports here."""
    expected = {}
    for modules in SECTIONS.values():
        for module in modules:
            try:
                expected[module] = dict(importlib.import_module(module).ROWS)
            except ImportError:
                continue  # its run says skipped: cannot import
    return expected


def run_module(section: str, module_name: str, quick: bool) -> list[Row]:
    """One module's rows; skipped or error rows (one per expected row) if it cannot run."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as ex:
        # The module is always present; what failed is a dependency of it (an extra).
        reason = f"cannot import {module_name}: {ex}"
        return [Row(section=section, what=module_name, unit="-", skipped=reason)]
    names: dict[str, str] = module.ROWS
    try:
        rows: list[Row] = module.measure(quick)
    except Skipped as why:
        return skipped_rows(module.SECTION, names, skipped=str(why))
    except Exception as ex:  # any failure: report it in one line and go on
        traceback.print_exc(file=sys.stderr)
        line = f"{type(ex).__name__}: {str(ex).strip().splitlines()[0] if str(ex).strip() else ''}"
        return skipped_rows(module.SECTION, names, error=line[:200])
    returned = {row.what for row in rows}
    missing = {what: unit for what, unit in names.items() if what not in returned}
    return rows + skipped_rows(module.SECTION, missing, error="not measured by its module")


def run(sections: Sequence[str], quick: bool) -> tuple[list[Row], dict[str, float]]:
    """Rows of the named sections, and each section's wall seconds."""
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for section in sections:
        started = time.monotonic()
        print(f"[bench] {section} ...", file=sys.stderr, flush=True)
        for module in SECTIONS[section]:
            rows += run_module(section, module, quick)
        seconds[section] = round(time.monotonic() - started, 1)
        print(f"[bench] {section} done in {seconds[section]:.0f} s", file=sys.stderr, flush=True)
    return rows, seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the race, print the table, optionally write JSON; 1 if a section errored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Small sizes (CI).")
    parser.add_argument("--json", type=Path, help="Also write the rows to this JSON file.")
    parser.add_argument(
        "--only", help=f"Comma-separated sections (default all: {', '.join(SECTIONS)})."
    )
    args = parser.parse_args(argv)
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    load_before = os.getloadavg()
    started = time.monotonic()
    rows, seconds = run(sections, args.quick)
    meta: dict[str, object] = {
        "mode": "quick" if args.quick else "full",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "seconds": round(time.monotonic() - started, 1),
        "section_seconds": seconds,
    }
    print()
    print(format_table(rows))
    print(
        f"\n{meta['mode']} run, {meta['seconds']} s, {meta['cpus']} CPUs, load average "
        f"{meta['loadavg_before']} before, {meta['loadavg_after']} after; ratio = ours / baseline"
    )
    if args.json:
        write_json(rows, args.json, meta)
    return 1 if any(row.error is not None for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
