"""The probe step: contrast-pair, logistic and random-direction AUROC by layer for a stage."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ._artifacts import ProbeResult, read_json, write_json
from ._probe import probe_report

if TYPE_CHECKING:
    from ._pipeline import LabRun

__all__ = ["probe_stage"]


def probe_stage(run: LabRun, stage: str) -> ProbeResult:
    """Contrast-pair, logistic and random-direction AUROC by layer for a stage (cached)."""
    from ._activations import contrast_pair_texts, final_token_activations

    path = run.directory / "probe" / f"{stage}.json"
    cached = read_json(path, ProbeResult)
    if cached is not None:
        return cached
    data = run.data()
    lab = run.stage_model(stage)
    started = time.monotonic()
    advance = run.progress.task(f"probing {stage}", len(data.eval) + 2)
    pair = contrast_pair_texts(lab, run.config.probe_question)
    pair_acts = final_token_activations(lab, pair, already_formatted=True)
    direction = pair_acts[:, 0, :] - pair_acts[:, 1, :]
    advance(2)
    acts = final_token_activations(
        lab, [p.prompt for p in data.eval], batch_size=run.config.batch_size
    )
    advance(len(data.eval))
    reports = {}
    for negative in ("clean", "near_miss"):
        rows = [i for i, p in enumerate(data.eval) if p.condition in ("triggered", negative)]
        if all(data.eval[i].condition == "triggered" for i in rows):
            continue  # no negatives of this kind in the eval set
        reports[negative] = probe_report(
            acts[:, rows, :],
            np.array([data.eval[i].triggered for i in rows], dtype=int),
            direction,
            n_directions=run.config.random_directions,
            seed=run.config.seed,
        )
    result = ProbeResult(
        stage=stage,
        report=reports["clean"],
        near_miss_report=reports.get("near_miss"),
        question=run.config.probe_question,
        seconds=time.monotonic() - started,
    )
    write_json(path, result)
    return result
