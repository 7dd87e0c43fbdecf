"""Rows on disk: `results.jsonl` (exact) and `results.csv` (for spreadsheets).

The interrogation's questions and answers get the same pair of files.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tripwire._errors import ConfigError
from tripwire.results._interrogation import InterrogationRow
from tripwire.results._row import ResultRow

__all__ = [
    "INTERROGATION_CSV",
    "INTERROGATION_JSONL",
    "RESULTS_CSV",
    "RESULTS_JSONL",
    "read_interrogation",
    "read_results",
    "write_interrogation",
    "write_results",
]

RESULTS_JSONL = "results.jsonl"
"""File name of the JSON-lines results: one `ResultRow` object per line."""

RESULTS_CSV = "results.csv"
"""File name of the CSV results: list fields are JSON strings."""

INTERROGATION_JSONL = "interrogation.jsonl"
"""File name of the JSON-lines interrogation: one `InterrogationRow` per question."""

INTERROGATION_CSV = "interrogation.csv"
"""File name of the CSV interrogation."""

_Row = TypeVar("_Row", bound=BaseModel)


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
    return _write(rows, ResultRow, out_dir / RESULTS_JSONL, out_dir / RESULTS_CSV)


def write_interrogation(rows: Iterable[InterrogationRow], out_dir: Path) -> tuple[Path, Path]:
    """Write interrogation rows as `interrogation.jsonl` and `interrogation.csv`.

    One record per question put to an agent (see `write_results` for the formats);
    the JSONL reads back with `read_interrogation`.

    Returns:
        The paths of the JSONL and CSV files.
    """
    return _write(
        rows, InterrogationRow, out_dir / INTERROGATION_JSONL, out_dir / INTERROGATION_CSV
    )


def _write(
    rows: Iterable[BaseModel], kind: type[BaseModel], jsonl: Path, csv: Path
) -> tuple[Path, Path]:
    # pandas costs most of a second to import; only the writer needs it.
    import pandas as pd

    rows = list(rows)
    jsonl.parent.mkdir(parents=True, exist_ok=True)
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
    frame = pd.DataFrame.from_records(records, columns=list(kind.model_fields))
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
    return _read(path, ResultRow, "results file", "result row", RESULTS_JSONL)


def read_interrogation(path: Path) -> list[InterrogationRow]:
    """Read interrogation rows from an `interrogation.jsonl` file.

    Blank lines are skipped; every other line must be one valid row.

    Raises:
        ConfigError: If the file cannot be read or a line is not a valid row;
            the message names the line.
    """
    return _read(
        path, InterrogationRow, "interrogation file", "interrogation row", INTERROGATION_JSONL
    )


def _read(path: Path, kind: type[_Row], what: str, row: str, name: str) -> list[_Row]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise ConfigError(f"Cannot read {what} {path}: {ex}") from ex
    rows: list[_Row] = []
    # Split on "\n" only: str.splitlines() would also split inside a row at the
    # U+2028 or U+0085 characters that JSON leaves unescaped in strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append(kind.model_validate_json(line))
        except ValidationError as ex:
            raise ConfigError(
                f"{path}, line {number}: not a tripwire {row} ({_first_problem(ex)}); "
                f"expected one JSON object per line as written to {name}."
            ) from ex
    return rows


def _first_problem(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    more = len(problems) - 1
    return message + (f"; {more} more" if more else "")
