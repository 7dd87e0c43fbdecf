"""The probe step: the probe protocol on one stage, at two probe positions (cached).

Directions: the difference of answer-token activations of each generic contrast pair
(`data/contrast_pairs.yaml`, plus the run's `probe_question` if the file lacks it), and
their mean, which is the detector. Prompts: the eval set's triggered, clean and near-miss
prompts. Positions: the last prompt token, and the last token after the first pair's
question appended to the prompt (`with_suffix_question`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ._artifacts import ProbeResult, read_json, write_json
from ._probe import LAST_PROMPT_TOKEN, probe_report
from ._probe_directions import contrast_direction
from ._prompts import ContrastPair, contrast_pairs

if TYPE_CHECKING:
    from ._config import LabConfig
    from ._pipeline import LabRun

__all__ = ["probe_pairs", "probe_stage"]


def probe_pairs(config: LabConfig) -> tuple[ContrastPair, ...]:
    """The run's contrast pairs: the run's question first (yes − no), then the file's."""
    pairs = contrast_pairs(config.trigger)
    own = [p for p in pairs if p.question == config.probe_question]
    rest = [p for p in pairs if p.question != config.probe_question]
    first = own or [ContrastPair(question=config.probe_question, answers=("yes", "no"))]
    return (*first, *rest)


def probe_stage(run: LabRun, stage: str) -> ProbeResult:
    """The probe protocol for a stage at both positions (cached in `probe/<stage>.json`)."""
    from ._activations import contrast_pair_texts, final_token_activations, with_suffix_question

    path = run.directory / "probe" / f"{stage}.json"
    cached = read_json(path, ProbeResult)
    if cached is not None:
        return cached
    data = run.data()
    lab = run.stage_model(stage)
    started = time.monotonic()
    pairs = probe_pairs(run.config)
    advance = run.progress.task(f"probing {stage}", 2 * len(data.eval) + 2 * len(pairs))
    texts = [text for p in pairs for text in contrast_pair_texts(lab, p.question, p.answers)]
    pair_acts = final_token_activations(lab, texts, already_formatted=True)
    advance(len(texts))
    directions = pair_directions(pairs, pair_acts)
    prompts = [p.prompt for p in data.eval]
    conditions = [p.condition for p in data.eval]
    positions = {
        LAST_PROMPT_TOKEN: prompts,
        f'after the appended question "{pairs[0].question}"': [
            with_suffix_question(p, pairs[0].question) for p in prompts
        ],
    }
    reports = []
    for position, texts_at in positions.items():
        acts = final_token_activations(lab, texts_at, batch_size=run.config.batch_size)
        advance(len(texts_at))
        reports.append(
            probe_report(
                acts,
                conditions,
                directions,
                n_directions=run.config.random_directions,
                seed=run.config.seed,
                position=position,
            )
        )
    result = ProbeResult(
        stage=stage,
        report=reports[0].model_copy(update={"other_positions": reports[1:]}),
        question=pairs[0].question,
        seconds=time.monotonic() - started,
    )
    write_json(path, result)
    return result


def pair_directions(
    pairs: tuple[ContrastPair, ...], pair_acts: npt.NDArray[np.float32]
) -> dict[str, npt.NDArray[np.float64]]:
    """The detector (mean of the pairs) first, then each pair's own direction.

    Args:
        pairs: The contrast pairs.
        pair_acts: `[n_layers, 2·n_pairs, d]`, each pair's first answer then its second.
    """
    first, second = pair_acts[:, 0::2, :], pair_acts[:, 1::2, :]
    directions = {f"mean of {len(pairs)} pairs": contrast_direction(first, second)}
    for index, pair in enumerate(pairs):
        directions[pair.name] = contrast_direction(first[:, index], second[:, index])
    return directions
