"""The race's table: one plain-text row per comparison, and the same rows as JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from _rows import Row

__all__ = ["format_table", "print_table", "write_json"]

_HEADER = ("section", "what", "ours", "baseline", "unit", "ratio", "target", "met?")


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _cells(row: Row) -> tuple[str, ...]:
    if row.error is not None:
        return (row.section, row.what, f"error: {row.error}", "", "", "", "", "")
    if row.skipped is not None:
        return (row.section, row.what, f"skipped: {row.skipped}", "", "", "", "", "")
    ratio = "-" if row.ratio is None else f"{_number(row.ratio)}x"
    met = "-" if row.met is None else ("yes" if row.met else "NO")
    target = "-" if row.target is None else str(row.target)
    return (
        row.section, row.what, _number(row.ours), _number(row.baseline), row.unit,
        ratio, target, met,
    )  # fmt: skip


def format_table(rows: Sequence[Row]) -> str:
    """The rows as aligned plain text; a skipped or failed row spans the figure columns."""
    cells = [_cells(row) for row in rows]
    unmeasured = [row.skipped is not None or row.error is not None for row in rows]
    # A skipped/error message is long: it is not allowed to widen the figure columns.
    widths = [
        max(
            [len(_HEADER[i])]
            + [len(c[i]) for c, u in zip(cells, unmeasured, strict=True) if i < 2 or not u]
        )
        for i in range(len(_HEADER))
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(_HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for c, u in zip(cells, unmeasured, strict=True):
        if u:
            lines.append(f"{c[0].ljust(widths[0])}  {c[1].ljust(widths[1])}  {c[2]}")
        else:
            lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)).rstrip())
    return "\n".join(lines)


def print_table(rows: Sequence[Row]) -> None:
    """Print `format_table(rows)`."""
    print(format_table(rows), flush=True)


def write_json(rows: Sequence[Row], path: Path, meta: dict[str, object]) -> None:
    """Write `{"meta": ..., "rows": [...]}` (ratio and met included) to `path`."""
    payload = {"meta": meta, "rows": [row.model_dump(mode="json") for row in rows]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
