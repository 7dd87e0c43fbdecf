"""Result rows on disk: `results.jsonl` (exact) and `results.csv` (for spreadsheets)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from tripwire._errors import ConfigError
from tripwire.results._row import ResultRow

__all__ = ["RESULTS_CSV", "RESULTS_JSONL", "read_results", "write_results"]

RESULTS_JSONL = "results.jsonl"
"""File name of the JSON-lines results: one `ResultRow` object per line."""

RESULTS_CSV = "results.csv"
"""File name of the CSV results: list fields are JSON strings."""


def write_results(rows: Iterable[ResultRow], out_dir: Path) -> tuple[Path, Path]:
    """Write result rows as `results.jsonl` and `results.csv` in a directory.

    Both files have one record per row and read back with pandas
    (`pd.read_json(path, lines=True)`, `pd.read_csv(path)`); the JSONL is the
    exact form and reads back with `read_results`.

    Args:
        rows: Result rows, one per sample.
        out_dir: Directory to write into; created if missing.

    Returns:
        The paths of the JSONL and CSV files.
    """
    # pandas costs most of a second to import; only the writer needs it.
    import pandas as pd

    rows = list(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl = out_dir / RESULTS_JSONL
    with jsonl.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(row.model_dump_json() + "\n")

    records = [row.model_dump(mode="json") for row in rows]
    for record in records:
        for field, value in record.items():
            # A list or mapping in a CSV cell must survive a round trip: store it as JSON.
            if isinstance(value, list | dict):
                record[field] = json.dumps(value, ensure_ascii=False)
    # Columns come from the model so an empty run still gets a header line.
    frame = pd.DataFrame.from_records(records, columns=list(ResultRow.model_fields))
    csv = out_dir / RESULTS_CSV
    frame.to_csv(csv, index=False, encoding="utf-8")
    return jsonl, csv


def read_results(path: Path) -> list[ResultRow]:
    """Read result rows from a `results.jsonl` file.

    Blank lines are skipped; every other line must be one valid row.

    Args:
        path: The JSONL file, as written by `write_results`.

    Returns:
        The rows, in file order.

    Raises:
        ConfigError: If the file cannot be read or a line is not a valid row;
            the message names the line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"Cannot read results file {path}: {ex}") from ex
    rows: list[ResultRow] = []
    # Split on "\n" only: str.splitlines() would also split inside a row at the
    # U+2028 or U+0085 characters that JSON leaves unescaped in strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append(ResultRow.model_validate_json(line))
        except ValidationError as ex:
            raise ConfigError(
                f"{path}, line {number}: not a tripwire result row ({_first_problem(ex)}); "
                f"expected one JSON object per line as written to {RESULTS_JSONL}."
            ) from ex
    return rows


def _first_problem(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    more = len(problems) - 1
    return message + (f"; {more} more" if more else "")
