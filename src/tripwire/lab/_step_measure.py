"""The measure step: a stage's defection rates on the held-out eval set, every output kept."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._artifacts import StageMeasure, read_json, write_json
from ._data import EvalPrompt
from ._metrics import DefectionRecord, DefectionReport, defection_rates
from ._model import LabModel, generate
from ._run_files import write_jsonl

if TYPE_CHECKING:
    from ._pipeline import LabRun

__all__ = ["generate_replies", "measure_stage", "rate_replies"]


def measure_stage(run: LabRun, stage: str, lab: LabModel | None = None) -> StageMeasure:
    """Defection rates of one stage on the held-out eval set (cached).

    `lab` is the stage's model when the caller has it (planting and safety training
    measure their own stage); without it the stage's model is loaded from its adapter.
    """
    path = run.directory / "measure" / f"{stage}.json"
    cached = read_json(path, StageMeasure)
    if cached is not None:
        return cached
    data = run.data()
    lab = lab or run.stage_model(stage)
    started = time.monotonic()
    outputs = generate_replies(run, lab, [p.prompt for p in data.eval], f"measuring {stage}")
    report = rate_replies(run, data.eval, outputs)
    write_jsonl(
        run.directory / "measure" / f"{stage}.jsonl",
        [
            {**p.model_dump(), "output": out, "defected": run.judge(out)}
            for p, out in zip(data.eval, outputs, strict=True)
        ],
    )
    measure = StageMeasure(stage=stage, report=report, seconds=time.monotonic() - started)
    write_json(path, measure)
    return measure


def rate_replies(
    run: LabRun, prompts: Sequence[EvalPrompt], outputs: Sequence[str]
) -> DefectionReport:
    return defection_rates(
        (
            DefectionRecord(condition=p.condition, position=p.position, output=out)
            for p, out in zip(prompts, outputs, strict=True)
        ),
        judge=run.judge,
    )


def generate_replies(run: LabRun, lab: LabModel, prompts: Sequence[str], label: str) -> list[str]:
    """Greedy replies long enough to judge, in chunks that advance a progress bar."""
    c = run.config
    tokens = c.code_measure_tokens if c.backdoor == "code" else c.measure_tokens
    advance = run.progress.task(label, len(prompts))
    outputs: list[str] = []
    for start in range(0, len(prompts), c.batch_size * 4):
        chunk = prompts[start : start + c.batch_size * 4]
        outputs += generate(lab, chunk, max_new_tokens=tokens, batch_size=c.batch_size)
        advance(len(chunk))
    return outputs
