"""Files a lab run writes beside its JSON results: JSONL sets, and stale results removed."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

__all__ = ["forget", "write_jsonl"]


def forget(*paths: Path) -> None:
    """Delete results that a step is about to recompute, so none is reused stale."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def write_jsonl(path: Path, items: Sequence[BaseModel | dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    adapter: TypeAdapter[object] = TypeAdapter(object)
    with path.open("w") as handle:
        for item in items:
            record = item.model_dump() if isinstance(item, BaseModel) else item
            handle.write(adapter.dump_json(record).decode() + "\n")
