"""`tripwire monitor train`: build the corpus, measure held out, train, write the model.

Held-out numbers are leave-one-family-out: every transcript is scored by a model that
never saw its scenario (or its kind of benign work), nor any augmented copy of it. The
shipped model is then trained on everything.
"""

from __future__ import annotations

import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from tripwire._errors import MonitorError

from ._augment import augment_transcript
from ._benign import benign_corpus
from ._classifier import ClassifierModel, ClassifierScorer, default_artifact_dir, save_classifier
from ._corpus import Corpus, LabelledTranscript, corpus_digest, scripted_corpus
from ._features import FeatureConfig, Featurizer

__all__ = [
    "FamilyMetrics",
    "HeldOutMetrics",
    "TrainReport",
    "build_corpus",
    "held_out_metrics",
    "train_classifier",
]

_C = 0.2
"""Inverse regularisation of the logistic regression: strong, so weight spreads over
features many scenarios share (chosen once on the held-out split, not per run)."""


class FamilyMetrics(BaseModel):
    """Held-out results for one family (scored by a model that never saw it)."""

    family: str
    """Scenario or kind of benign work."""

    honest: int
    """Label-0 transcripts."""

    attack: int
    """Label-1 transcripts."""

    auroc: float | None = None
    """AUROC within the family (None unless it has both classes)."""

    tpr_at_1pct_fpr: float | None = None
    """Share of its attacks at or above the overall 1%-FPR threshold."""

    fpr_at_1pct_threshold: float | None = None
    """Share of its honest transcripts at or above that threshold."""


class HeldOutMetrics(BaseModel):
    """Leave-one-family-out results over a set of transcripts."""

    transcripts: int
    """Transcripts scored."""

    auroc: float
    """Area under the ROC curve of the pooled held-out scores."""

    tpr_at_1pct_fpr: float
    """True-positive rate at a false-positive rate of at most 1%."""

    tpr_at_5pct_fpr: float
    """True-positive rate at a false-positive rate of at most 5%."""

    threshold_at_1pct_fpr: float
    """The score threshold that reaches that 1% FPR."""

    families: list[FamilyMetrics] = Field(default_factory=list)
    """Per family."""


class TrainReport(BaseModel):
    """What `train_classifier` measured and wrote."""

    corpus: dict[str, object]
    """Counts by label, family and origin, and the samples dropped."""

    corpus_sha256: str
    """Digest of the corpus the model was trained on."""

    held_out: HeldOutMetrics
    """Leave-one-family-out metrics over the whole corpus (augmented copies included)."""

    held_out_originals: HeldOutMetrics
    """The same scores, over the original (unaugmented) transcripts only."""

    throughput: float
    """Transcripts scored per second by the trained scorer (features, guard, model)."""

    train_seconds: float
    """Wall time of the whole training run, the scripted runs included."""

    artifact: str
    """The model's json file."""

    artifact_bytes: int
    """Size of the two model files together."""


def build_corpus(
    work_dir: Path,
    *,
    seed: int = 0,
    benign_per_family: int = 60,
    copies: int = 2,
    progress: Callable[[str], None] | None = None,
) -> Corpus:
    """The full labelled corpus: scripted runs, benign look-alikes, augmented copies.

    Args:
        work_dir: Scripted-run logs are cached in `work_dir/logs`.
        seed: Seeds the look-alikes and the augmentation.
        benign_per_family: Look-alike transcripts per kind of work.
        copies: Augmented copies of every original transcript (both classes).
        progress: Told what is happening.
    """
    say = progress or (lambda _: None)
    scripted = scripted_corpus(work_dir / "logs", progress=say)
    originals = [*scripted.items, *benign_corpus(seed, benign_per_family)]
    say(f"augmenting {len(originals)} transcripts ({copies} copies each)")
    return Corpus(
        items=[*originals, *augment_corpus(originals, copies=copies, seed=seed)],
        dropped=scripted.dropped,
    )


def augment_corpus(
    items: Sequence[LabelledTranscript], *, copies: int = 2, seed: int = 0
) -> list[LabelledTranscript]:
    """`copies` restyled copies of every transcript, with label and family kept."""
    out: list[LabelledTranscript] = []
    for index, item in enumerate(items):
        for copy in range(copies):
            rng = random.Random(f"{seed}:{index}:{copy}")
            transcript, applied = augment_transcript(item.transcript, rng)
            transcript.id = f"{transcript.id}+aug{copy}"
            out.append(
                item.model_copy(
                    update={
                        "transcript": transcript,
                        "origin": f"{item.origin}+aug:{','.join(applied) or 'none'}",
                    }
                )
            )
    return out


def _fit(matrix: sp.csr_matrix, labels: np.ndarray, seed: int) -> LogisticRegression:
    model = LogisticRegression(
        C=_C, class_weight="balanced", solver="liblinear", max_iter=1000, random_state=seed
    )
    return model.fit(matrix, labels)


def held_out_metrics(
    labels: np.ndarray,
    scores: np.ndarray,
    families: Sequence[str],
) -> HeldOutMetrics:
    """AUROC, TPR at 1% and 5% FPR overall, and per family.

    Raises:
        MonitorError: If either class is missing.
    """
    if labels.min() == labels.max():
        raise MonitorError("Held-out metrics need both honest and attack transcripts.")
    fpr, tpr, thresholds = roc_curve(labels, scores)
    threshold = float(thresholds[np.flatnonzero(fpr <= 0.01)[-1]])
    per_family: list[FamilyMetrics] = []
    family_array = np.asarray(families)
    for family in sorted(set(families)):
        mask = family_array == family
        y, s = labels[mask], scores[mask]
        attack, honest = int(y.sum()), int((1 - y).sum())
        per_family.append(
            FamilyMetrics(
                family=family,
                honest=honest,
                attack=attack,
                auroc=float(roc_auc_score(y, s)) if attack and honest else None,
                tpr_at_1pct_fpr=float((s[y == 1] >= threshold).mean()) if attack else None,
                fpr_at_1pct_threshold=float((s[y == 0] >= threshold).mean()) if honest else None,
            )
        )
    return HeldOutMetrics(
        transcripts=int(labels.size),
        auroc=float(roc_auc_score(labels, scores)),
        tpr_at_1pct_fpr=float(tpr[fpr <= 0.01].max()),
        tpr_at_5pct_fpr=float(tpr[fpr <= 0.05].max()),
        threshold_at_1pct_fpr=min(threshold, 1.0),
        families=per_family,
    )


def cross_validate(
    matrix: sp.csr_matrix, labels: np.ndarray, families: Sequence[str], *, seed: int = 0
) -> np.ndarray:
    """Leave-one-family-out probabilities: each row scored by a model blind to its family.

    A family whose removal leaves one class only is scored by a model trained on all
    other families all the same (training always has both classes, or it raises).
    """
    family_array = np.asarray(families)
    scores = np.zeros(labels.size)
    for family in sorted(set(families)):
        test = family_array == family
        train = ~test
        if labels[train].min() == labels[train].max():
            raise MonitorError(f"Without {family} the corpus has one class only.")
        model = _fit(matrix[train], labels[train], seed)
        scores[test] = model.predict_proba(matrix[test])[:, 1]
    return scores


def train_classifier(
    work_dir: Path,
    out_dir: Path | None = None,
    *,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    benign_per_family: int = 60,
    copies: int = 2,
    corpus: Corpus | None = None,
    hold_out: Sequence[str] = (),
) -> TrainReport:
    """Build the corpus, measure held out, train on everything and write the model.

    Args:
        work_dir: Caches the scripted runs' logs (`work_dir/logs`); reused when present.
        out_dir: Where to write `classifier.npz`/`.json` (default: the shipped location).
        seed: Seeds the look-alikes, the augmentation and the solver.
        progress: Told what is happening, one line at a time.
        benign_per_family: Look-alike transcripts per kind of benign work.
        copies: Augmented copies of every original transcript.
        corpus: Use this corpus instead of building one (tests).
        hold_out: Families kept out of everything (cross-validation and the final
            model), so a split exported with `export_corpus(..., families=hold_out)` can
            be scored by every scorer through `tripwire monitor evaluate`.

    Raises:
        MonitorError: If the corpus cannot be built or has one class only.
    """
    say = progress or (lambda _: None)
    started = time.monotonic()
    if corpus is None:
        corpus = build_corpus(
            work_dir, seed=seed, benign_per_family=benign_per_family, copies=copies, progress=say
        )
    kept = set(hold_out)
    items = [item for item in corpus.items if item.family not in kept]
    if kept and len(items) == len(corpus.items):
        raise MonitorError(f"None of the held-out families {sorted(kept)} is in the corpus.")
    labels = np.array([item.label for item in items])
    families = [item.family for item in items]
    say(f"features of {len(items)} transcripts")
    featurizer = Featurizer(FeatureConfig())
    matrix = featurizer.matrix([featurizer.tokens(item.transcript) for item in items])
    say(f"held-out evaluation over {len(set(families))} families (leave one family out)")
    scores = cross_validate(matrix, labels, families, seed=seed)
    held_out = held_out_metrics(labels, scores, families)
    original = np.array(["+aug:" not in item.origin for item in items])
    held_out_originals = held_out_metrics(
        labels[original],
        scores[original],
        [f for f, o in zip(families, original, strict=True) if o],
    )
    say("training on everything")
    final = _fit(matrix, labels, seed)
    coef = final.coef_.ravel().astype(np.float64)
    coef[np.abs(coef) < 1e-4] = 0.0  # numerically nothing; keeps the file small
    model = ClassifierModel(featurizer.config, coef, float(final.intercept_[0]))
    scorer = ClassifierScorer(model=model)
    sample = [item.transcript for item in items[: min(len(items), 2000)]]
    timer = time.perf_counter()
    scorer.score_batch(sample)
    throughput = len(sample) / max(time.perf_counter() - timer, 1e-9)
    target = out_dir or default_artifact_dir()
    metadata = {
        "trained_with": {
            "model": f"LogisticRegression(C={_C}, class_weight=balanced, liblinear)",
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "seed": seed,
        },
        "threshold": held_out.threshold_at_1pct_fpr,
        "threshold_note": "held-out threshold for a 1% false-positive rate on the corpus",
        "corpus": Corpus(items=items, dropped=corpus.dropped).summary(),
        "held_out_families": sorted(kept),
        "corpus_sha256": corpus_digest(items),
        "held_out": held_out.model_dump(),
        "held_out_originals": held_out_originals.model_dump(),
        "throughput_per_second": round(throughput, 1),
    }
    json_path = save_classifier(model, target, metadata)
    size = sum((target / f"classifier.{ext}").stat().st_size for ext in ("npz", "json"))
    say(f"wrote {json_path} ({size} bytes)")
    return TrainReport(
        corpus=metadata["corpus"],  # type: ignore[arg-type]
        corpus_sha256=str(metadata["corpus_sha256"]),
        held_out=held_out,
        held_out_originals=held_out_originals,
        throughput=throughput,
        train_seconds=time.monotonic() - started,
        artifact=str(json_path),
        artifact_bytes=size,
    )
