"""The benchmark race runs and reports every row: a positive finite ratio (or figure), or why not.

Nothing here asserts an absolute time: machines differ and are shared. The cheap
sections run in the default test run; the whole quick race (minutes) is `slow`.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import run as bench_run  # noqa: E402


def _check(rows: list[dict[str, Any]], modules: list[str]) -> None:
    """Every expected row of `modules` is there, measured with a positive finite figure or
    ratio, or unmeasured with its reason; nothing errored."""
    by_what = {row["what"]: row for row in rows}
    expected = bench_run.expected_rows()
    for module in modules:
        if module not in expected:  # its dependencies are absent: the run says so
            assert any(r["what"] == module and r["skipped"] for r in rows), module
            continue
        for what in expected[module]:
            row = by_what.get(what)
            assert row is not None, f"row {what!r} missing"
            assert row["error"] is None, f"{what}: error: {row['error']}"
            if row["skipped"] is not None:
                assert row["skipped"].strip(), f"{what}: skipped without a reason"
                continue
            figure = row["ratio"] if row["baseline"] is not None else row["ours"]
            assert figure is not None and math.isfinite(figure) and figure > 0, (what, row)
            if row["target"] is not None:
                assert row["met"] in (True, False), what


def _race(tmp_path: Path, sections: str) -> list[dict[str, Any]]:
    out = tmp_path / "rows.json"
    code = bench_run.main(["--quick", "--only", sections, "--json", str(out)])
    rows: list[dict[str, Any]] = json.loads(out.read_text())["rows"]
    assert code == 0, [r for r in rows if r["error"]]
    return rows


def test_cheapest_section_reports_every_row(tmp_path: Path) -> None:
    # The guard section loads the embedded model for its LLM rival: the slow test has it.
    rows = _race(tmp_path, "audit")
    _check(rows, ["audit_log"])


def test_unknown_section_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench_run.main(["--quick", "--only", "nope"])
    assert "unknown section nope" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_race_reports_every_row(tmp_path: Path) -> None:
    rows = _race(tmp_path, ",".join(bench_run.SECTIONS))
    _check(rows, [m for modules in bench_run.SECTIONS.values() for m in modules])
