"""bench/load.py's count check: a lost, duplicated or invented episode is caught."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from inspect_ai import Task
from inspect_ai.dataset import Sample

from tripwire._suite import EvalBatch
from tripwire.results import ResultRow


@pytest.fixture(scope="module")
def load() -> ModuleType:
    path = Path(__file__).parents[2] / "bench" / "load.py"
    spec = importlib.util.spec_from_file_location("tripwire_bench_load", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def batch() -> EvalBatch:
    samples = [Sample(input="x", id=f"s{i}", metadata={"scenario": "demo"}) for i in (1, 2)]
    return EvalBatch(label="demo", task=Task(dataset=samples), models=["a", "b"], epochs=2)


def row(model: str, sample: str, epoch: int, outcome: str = "clean") -> ResultRow:
    return ResultRow(
        scenario="demo",
        condition="",
        theme="",
        model=model,
        epoch=epoch,
        sample_id=sample,
        outcome=outcome,  # type: ignore[arg-type]
    )


def every_row() -> list[ResultRow]:
    return [row(m, s, e) for m in "ab" for s in ("s1", "s2") for e in (1, 2)]


def test_all_back_once_is_ok_and_errors_are_counted(load: ModuleType) -> None:
    rows = every_row()
    rows[0] = row("a", "s1", 1, outcome="error")
    result = load.tally(load.planned_keys([batch()]), rows)
    assert result.ok
    assert (result.planned, result.returned) == (8, 8)
    assert result.outcomes == {"clean": 7, "error": 1}


def test_a_lost_episode_is_caught(load: ModuleType) -> None:
    result = load.tally(load.planned_keys([batch()]), every_row()[1:])
    assert not result.ok
    assert result.missing == [("demo", "a", "s1", 1)]


def test_a_duplicate_in_place_of_a_lost_one_is_caught(load: ModuleType) -> None:
    rows = every_row()
    rows[0] = rows[1]  # same count, one episode twice and one missing
    result = load.tally(load.planned_keys([batch()]), rows)
    assert not result.ok and result.planned == result.returned
    assert result.missing == [("demo", "a", "s1", 1)]
    assert result.duplicated == [("demo", "a", "s1", 2)]


def test_an_unplanned_episode_is_caught(load: ModuleType) -> None:
    result = load.tally(load.planned_keys([batch()]), [*every_row(), row("c", "s1", 1)])
    assert not result.ok
    assert result.unplanned == [("demo", "c", "s1", 1)]
