"""`tripwire monitor train` end to end on a small corpus: train, export, evaluate, score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_classifier import _small_corpus
from typer.testing import CliRunner

import tripwire.monitor
from tripwire._cli.main import app


def test_train_exports_the_held_out_split_and_the_model_scores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scripted runs take minutes (the slow test covers them); here the corpus is small.
    monkeypatch.setattr(tripwire.monitor, "build_corpus", lambda *a, **k: _small_corpus())
    runner = CliRunner()
    model, split = tmp_path / "model", tmp_path / "split"
    result = runner.invoke(
        app,
        ["monitor", "train", "--out", str(model), "--work", str(tmp_path / "work"),
         "--hold-out", "atk-weights", "--export", str(split)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "held out by family" in result.output
    assert (model / "classifier.npz").exists() and (model / "classifier.json").exists()
    assert sorted(p.name for p in (split / "attack").iterdir()) == ["atk-weights"]

    result = runner.invoke(
        app,
        ["monitor", "evaluate", "--honest", str(split / "honest"), "--attack",
         str(split / "attack"), "--classifier", str(model), "--scorer", "classifier",
         "--json", "--plot", str(tmp_path / "roc.png")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [metrics] = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    # Copying weights elsewhere was never seen in training: the model still ranks it.
    assert metrics["auroc"] > 0.7, metrics
