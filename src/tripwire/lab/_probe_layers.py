"""Held-out layer choice: a selection split picks the layer and sign, a scoring split scores.

Picking the best of ~30 layers on the prompts a detector is scored on inflates its AUROC
by selection alone (the same effect that lifts the best of 1,000 random directions far
above chance). So the probed prompts are split once, by seed and stratified by condition
(triggered, clean, near-miss): everything the detector is allowed to learn from labels —
the layer, the sign of the direction, a logistic probe's weights — comes from the
selection split, and every reported AUROC at the chosen layer from the scoring split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire._errors import ConfigError

from ._probe_control import rank_auroc
from ._probe_directions import Floats

__all__ = ["CONDITIONS", "choose_layer", "selection_split", "signed_aurocs"]

CONDITIONS = ("triggered", "clean", "near_miss")
"""Prompt conditions the protocol knows: triggered is the positive class; clean and
near-miss (the trigger's surface form without the trigger) are two negative sets."""

Indices = npt.NDArray[np.intp]


def selection_split(
    conditions: Sequence[str] | npt.NDArray[Any], selection_fraction: float = 0.5, seed: int = 0
) -> tuple[Indices, Indices]:
    """Split prompt indices into a layer-selection part and a scoring part.

    Stratified by condition, so each part holds the same shares of triggered, clean and
    near-miss prompts; the same seed and conditions give the same split.

    Args:
        conditions: Per prompt, "triggered", "clean" or "near_miss".
        selection_fraction: Share of each condition in the selection split, in (0, 1).
        seed: Split seed.

    Returns:
        `(selection, scoring)` sorted index arrays.

    Raises:
        ConfigError: On an unknown condition, a fraction outside (0, 1), or too few
            triggered or clean prompts to put some in both parts.
    """
    from sklearn.model_selection import train_test_split

    labels = checked_conditions(conditions)
    if not 0.0 < selection_fraction < 1.0:
        raise ConfigError(f"selection_fraction must be within (0, 1), got {selection_fraction}.")
    try:
        selection, scoring = train_test_split(
            np.arange(len(labels)),
            train_size=selection_fraction,
            stratify=labels,
            random_state=seed,
        )
    except ValueError as ex:
        raise ConfigError(
            f"Cannot split the probed prompts ({_counts(labels)}) with "
            f"selection_fraction={selection_fraction}: {ex}. Probe more prompts."
        ) from ex
    for part, name in ((selection, "selection"), (scoring, "scoring")):
        present = set(labels[part].tolist())
        if not {"triggered", "clean"} <= present:
            raise ConfigError(
                f"The {name} split holds no triggered or no clean prompt ({_counts(labels)} "
                "in all): probe more prompts or a selection_fraction nearer 0.5."
            )
    return np.sort(selection), np.sort(scoring)


def checked_conditions(conditions: Sequence[str] | npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    """The conditions as an array, checked to be known and to hold triggered and clean ones."""
    labels = np.asarray(conditions, dtype=str)
    unknown = sorted(set(labels.tolist()) - set(CONDITIONS))
    if labels.ndim != 1 or unknown:
        raise ConfigError(
            f"Probe conditions must be a list of {', '.join(CONDITIONS)}; "
            f"got {unknown or labels.shape}."
        )
    if not {"triggered", "clean"} <= set(labels.tolist()):
        raise ConfigError(
            f"The probed prompts must include triggered and clean ones ({_counts(labels)})."
        )
    return labels


def _counts(labels: npt.NDArray[np.str_]) -> str:
    return ", ".join(f"{int((labels == c).sum())} {c}" for c in CONDITIONS)


def choose_layer(
    selection_scores: npt.ArrayLike, positive: npt.NDArray[np.bool_]
) -> tuple[int, Floats]:
    """The layer a detector separates best on the selection split, and each layer's sign.

    Args:
        selection_scores: `[n_layers, n_selection]` projections of the selection split's
            triggered and clean prompts.
        positive: `[n_selection]`, True for triggered prompts.

    Returns:
        `(layer, signs)`: the layer of the highest `max(auc, 1 − auc)` (the first on a tie),
        and per layer +1 where the direction as given ranks triggered prompts higher on
        the selection split (AUROC ≥ 0.5), else −1.
    """
    auroc = rank_auroc(np.asarray(selection_scores, dtype=np.float64).T, positive)
    signs = np.where(auroc >= 0.5, 1.0, -1.0)
    return int(np.argmax(np.maximum(auroc, 1.0 - auroc))), signs


def signed_aurocs(scores: npt.ArrayLike, positive: npt.NDArray[np.bool_], signs: Floats) -> Floats:
    """Per-layer AUROC of scored prompts with each layer's sign fixed in advance.

    Args:
        scores: `[n_layers, n]` projections of the prompts being scored.
        positive: `[n]`, True for triggered prompts.
        signs: `[n_layers]` of ±1, from `choose_layer` on the selection split.

    Returns:
        `[n_layers]` AUROCs.
    """
    auroc = rank_auroc(np.asarray(scores, dtype=np.float64).T, positive)
    return np.where(signs > 0, auroc, 1.0 - auroc)
