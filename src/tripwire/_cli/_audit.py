"""`tripwire audit …`: verify an audit log's chain and checkpoints, or show its records."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tripwire._errors import TripwireError
from tripwire.audit import AuditRecord, default_key_path, head_problem, load_key, verify_log

from ._exit import ExitCode, print_error

__all__ = ["audit_app"]

audit_app = typer.Typer(
    name="audit",
    help="Tamper-evident audit log: verify its hash chain and checkpoints, or show records.",
    no_args_is_help=True,
)

# Own consoles: importing the shared `_output` would pull in the report stack.
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

FileArgument = Annotated[Path, typer.Argument(help="The audit log (JSONL).")]


def _fail(ex: TripwireError) -> typer.Exit:
    """One red line on stderr and `ExitCode.USAGE`: the input could not be read."""
    print_error(ex)
    return typer.Exit(ExitCode.USAGE)


@audit_app.command("verify")
def verify_command(
    file: FileArgument,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Checkpoint key the log was written with. Default: $TRIPWIRE_AUDIT_KEY or "
            "~/.config/tripwire/audit.key when it exists; without a key checkpoints are "
            "reported unchecked.",
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            help="Hash the log's last record must have, kept outside the log (a supervised "
            "run's run.json has it as audit_head): catches records cut from the end.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the hash chain and checkpoints; name the first bad record.

    Exit code 0 when the log verifies (a torn last line from a crash is only a warning),
    1 when it does not, 2 when the log or key cannot be read.
    """
    try:
        if key_file is None and default_key_path().is_file():
            key_file = default_key_path()
        key = None if key_file is None else load_key(key_file)
        report = verify_log(file, key=key)
        if head is not None and report.ok:
            found = head_problem(file, head)
            if found is not None:
                report = report.model_copy(
                    update={
                        "ok": False,
                        "first_bad": report.records + 1,
                        "problem": found[0],
                        "detail": found[1],
                    }
                )
    except TripwireError as ex:
        raise _fail(ex) from ex
    if as_json:
        _out.print_json(report.model_dump_json())
    else:
        _out.print(report.summary(), markup=False)
    raise typer.Exit(ExitCode.OK if report.ok else ExitCode.VERDICT_FAILED)


@audit_app.command("show")
def show_command(
    file: FileArgument,
    kind: Annotated[str | None, typer.Option("--kind", help="Only records of this kind.")] = None,
    last: Annotated[
        int, typer.Option("--last", min=0, help="Show the last N records (0: all).")
    ] = 50,
) -> None:
    """Show records as a table. Does not verify them: use `tripwire audit verify`."""
    rows: deque[tuple[str, str, str, str]] = deque(maxlen=last or None)
    try:
        with open(file, "rb") as f:
            for number, raw in enumerate(f, 1):
                row = _row(number, raw)
                if kind is None or row[2] == kind:
                    rows.append(row)
    except OSError as ex:
        raise _fail(TripwireError(f"cannot read audit log {file}: {ex.strerror}")) from ex
    seq_width = max([3, *(len(row[0]) for row in rows)])
    kind_width = min(14, max([4, *(len(row[2]) for row in rows)]))  # longer kinds fold
    # Rich cannot shrink no-wrap cells, so cut data to what is left of the terminal
    # after seq, time (19), kind and the borders (13): about 30 columns at 80.
    data_width = max(12, _out.width - 13 - seq_width - 19 - kind_width)
    table = Table(caption="not verified: run 'tripwire audit verify'")
    table.add_column("seq", justify="right", no_wrap=True, min_width=seq_width)
    table.add_column("time (UTC)", no_wrap=True, min_width=19)
    table.add_column("kind", width=kind_width, overflow="fold")
    table.add_column("data", no_wrap=True, overflow="ellipsis")
    for seq, stamp, kind_, data in rows:
        if len(data) > data_width:
            data = data[: data_width - 1] + "…"
        # Text, not str: logged data must not be read as rich markup.
        table.add_row(Text(seq), Text(stamp), Text(kind_), Text(data))
    _out.print(table)


def _row(number: int, raw: bytes) -> tuple[str, str, str, str]:
    """seq, time (UTC, to the second), kind and compact data of one line."""
    try:
        record = AuditRecord.model_validate_json(raw)
    except ValidationError:
        return "?", "", "?", f"line {number} is not an audit record"
    data = ", ".join(f"{k}={v}" for k, v in record.data.items())
    return str(record.seq), record.time[:19].replace("T", " "), record.kind, data
