import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from tripwire._errors import ConfigError
from tripwire.lab import (
    auroc_by_layer,
    calibrated_auroc,
    contrast_direction,
    logistic_probe_auroc,
    orientation_free,
    project,
    random_direction_control,
)

N_LAYERS, N, D, SIGNAL_LAYER = 4, 200, 64, 2


def planted(strength: float = 4.0, d: int = D, seed: int = 0):
    """Noise everywhere, plus `strength` x a known unit direction for positives at one layer."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    labels = np.array([1, 0] * (N // 2))
    acts = rng.standard_normal((N_LAYERS, N, d)).astype(np.float32)
    acts[SIGNAL_LAYER] += (strength * labels[:, None] * u).astype(np.float32)
    # One contrast pair: the "yes" answer sits along u at the signal layer, noise elsewhere.
    act_yes = (0.05 * rng.standard_normal((N_LAYERS, d))).astype(np.float32)
    act_no = (0.05 * rng.standard_normal((N_LAYERS, d))).astype(np.float32)
    act_yes[SIGNAL_LAYER] += 3 * u.astype(np.float32)
    return acts, labels, act_yes, act_no, u


def test_contrast_direction_is_unit_difference_of_means() -> None:
    pos = np.array([[[1.0, 2.0], [3.0, 2.0]]])  # one layer, two pairs
    neg = np.array([[[0.0, 2.0], [0.0, 2.0]]])
    np.testing.assert_allclose(contrast_direction(pos, neg), [[1.0, 0.0]])
    # One pair may be given as [n_layers, d]; equal means give a zero direction.
    np.testing.assert_allclose(
        contrast_direction(np.ones((2, 3)), np.ones((2, 3))), np.zeros((2, 3))
    )


def test_planted_signal_found_at_its_layer_only() -> None:
    acts, labels, act_yes, act_no, u = planted()
    direction = contrast_direction(act_yes, act_no)
    assert direction[SIGNAL_LAYER] @ u > 0.8
    auroc = auroc_by_layer(project(acts, direction), labels)
    assert auroc.shape == (N_LAYERS,)
    assert auroc[SIGNAL_LAYER] > 0.98
    for layer in set(range(N_LAYERS)) - {SIGNAL_LAYER}:
        assert abs(auroc[layer] - 0.5) < 0.15


def test_orientation_is_never_flipped_with_test_labels() -> None:
    acts, labels, act_yes, act_no, _ = planted()
    reversed_direction = contrast_direction(act_no, act_yes)  # pair given the wrong way round
    auroc = auroc_by_layer(project(acts, reversed_direction), labels)
    assert auroc[SIGNAL_LAYER] < 0.02
    assert orientation_free(auroc)[SIGNAL_LAYER] > 0.98


def test_logistic_probe_finds_the_signal_layer() -> None:
    acts, labels, *_ = planted()
    auroc = logistic_probe_auroc(acts, labels, seed=1)
    assert auroc[SIGNAL_LAYER] > 0.97
    for layer in set(range(N_LAYERS)) - {SIGNAL_LAYER}:
        assert abs(auroc[layer] - 0.5) < 0.2


def test_random_directions_are_weaker_than_the_planted_one() -> None:
    acts, labels, act_yes, act_no, _ = planted(strength=3.5, d=256)
    control = random_direction_control(acts, labels, n_directions=1000, seed=0)
    assert len(control.best) == len(control.median) == N_LAYERS
    diff = auroc_by_layer(project(acts, contrast_direction(act_yes, act_no)), labels)
    assert diff[SIGNAL_LAYER] > 0.95
    assert control.best[SIGNAL_LAYER] < 0.9 < diff[SIGNAL_LAYER]
    # Noise layers: the best of 1,000 directions beats chance by selection alone, modestly.
    for layer in set(range(N_LAYERS)) - {SIGNAL_LAYER}:
        assert 0.5 <= control.median[layer] < 0.56 < control.best[layer] < 0.8


def test_rank_auroc_matches_sklearn() -> None:
    acts, labels, *_ = planted()
    control = random_direction_control(acts, labels, n_directions=1, seed=7)
    direction = np.random.default_rng(7).standard_normal(D)
    for layer in range(N_LAYERS):
        expected = roc_auc_score(labels, acts[layer].astype(np.float64) @ direction)
        assert control.best[layer] == pytest.approx(max(expected, 1 - expected))
        assert control.median[layer] == control.best[layer]


def test_random_control_at_lab_scale_is_chance_on_noise() -> None:
    rng = np.random.default_rng(0)
    acts = rng.standard_normal((30, 300, 576)).astype(np.float32)
    labels = np.arange(300) % 2
    control = random_direction_control(acts, labels, n_directions=1000)
    assert len(control.best) == len(control.median) == 30
    # Pure noise: the typical direction is near chance; the best of 1,000 is the
    # selection-inflated baseline a real probe must beat, but far from 1.
    assert all(0.5 <= m < 0.56 for m in control.median)
    assert all(0.56 < b < 0.75 for b in control.best)


def test_calibrated_sign_uses_the_calibration_half_only() -> None:
    acts, labels, act_yes, act_no, _ = planted()
    reversed_direction = contrast_direction(act_no, act_yes)  # the model encodes it reversed
    scores = project(acts, reversed_direction)
    calibrated = calibrated_auroc(scores, labels, seed=0)
    assert calibrated[SIGNAL_LAYER] > 0.97  # the sign comes from labelled calibration prompts
    for layer in set(range(N_LAYERS)) - {SIGNAL_LAYER}:
        assert abs(calibrated[layer] - 0.5) < 0.2  # noise stays noise


def test_one_class_raises_config_error() -> None:
    acts, _, act_yes, act_no, _ = planted()
    ones = np.ones(N)
    with pytest.raises(ConfigError, match="one class"):
        auroc_by_layer(project(acts, contrast_direction(act_yes, act_no)), ones)
    with pytest.raises(ConfigError, match="one class"):
        logistic_probe_auroc(acts, ones)
    with pytest.raises(ConfigError, match="one class"):
        random_direction_control(acts, np.zeros(N, dtype=bool))


@pytest.mark.parametrize(
    "call",
    [
        lambda a, y: project(a, np.zeros((N_LAYERS, D + 1))),
        lambda a, y: project(a[0], np.zeros((N_LAYERS, D))),
        lambda a, y: auroc_by_layer(np.zeros((N_LAYERS, N)), y[:-1]),
        lambda a, y: logistic_probe_auroc(a, np.arange(N) % 3),
        lambda a, y: contrast_direction(a[:, :2], a[:3, :2]),
        lambda a, y: contrast_direction(np.full((2, 3), np.nan), np.zeros((2, 3))),
        lambda a, y: random_direction_control(a, y, n_directions=0),
    ],
)
def test_bad_shapes_and_values_raise_config_error(call) -> None:
    acts, labels, *_ = planted()
    with pytest.raises(ConfigError):
        call(acts, labels)


def test_too_few_samples_per_class_to_split() -> None:
    acts = np.random.default_rng(0).standard_normal((2, 5, 4))
    with pytest.raises(ConfigError, match="more samples"):
        logistic_probe_auroc(acts, [1, 0, 0, 0, 0])


def test_missing_scikit_learn_names_the_extra(monkeypatch) -> None:
    import importlib.util

    from tripwire._errors import ModelError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    acts, labels, *_ = planted()
    with pytest.raises(ModelError, match=r"tripwire\[lab\]"):
        logistic_probe_auroc(acts, labels)
