"""Files written whole or not at all."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["staged_files", "write_atomic"]


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all: a temporary name beside it, then rename."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


@contextlib.contextmanager
def staged_files(directory: Path) -> Iterator[Path]:
    """A scratch directory whose files replace their namesakes in `directory` at the end.

    Its subdirectories replace theirs whole (files of the old one are not kept).

    Every file is written and synced before any is renamed into place, so an
    error while writing (a full disk, a kill) leaves the earlier files of
    `directory` as they were; the scratch directory is removed either way.

    Example:
        ```python
        with staged_files(out_dir) as staging:
            (staging / "results.jsonl").write_text(text)
        ```
    """
    directory.mkdir(parents=True, exist_ok=True)
    staging = directory / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        for path in sorted(staging.iterdir()):
            target = directory / path.name
            if path.is_dir() and target.is_dir():
                # A subdirectory (a report's `plots/`) replaces its namesake whole, so
                # nothing of an earlier run is left beside the new files.
                old = directory / f".old-{path.name}-{uuid.uuid4().hex[:8]}"
                os.replace(target, old)
                os.replace(path, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(path, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
