"""The transcript classifier: a linear model over hashed transcript features.

The shipped model is two files in `tripwire/monitor/data/`: `classifier.npz` (the
non-zero coefficients and the intercept, nothing executable: no pickle) and
`classifier.json` (feature settings, versions, the training corpus's summary and
sha256, the held-out metrics, and the npz's own sha256). `tripwire monitor train`
rebuilds both from the corpus tripwire generates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from tripwire._errors import MonitorError

from ._features import FEATURE_VERSION, FeatureConfig, Featurizer, TranscriptTokens
from ._score import MonitorScore, TranscriptScorer
from ._transcript import Transcript

__all__ = [
    "ARTIFACT_NAME",
    "ClassifierModel",
    "ClassifierScorer",
    "default_artifact_dir",
    "load_classifier",
    "save_classifier",
]

ARTIFACT_NAME = "classifier"
"""Stem of the artifact's two files (`classifier.npz`, `classifier.json`)."""

_RETRAIN = "run `tripwire monitor train` to rebuild it"


def default_artifact_dir() -> Path:
    """Where the shipped model lives (`tripwire/monitor/data/`)."""
    return Path(str(files("tripwire.monitor") / "data"))


class ClassifierModel:
    """Coefficients over a featurizer's columns; probability = sigmoid(x . w + b)."""

    def __init__(
        self,
        config: FeatureConfig,
        coef: np.ndarray,
        intercept: float,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Build a model from its numbers.

        Args:
            config: The feature settings the coefficients belong to.
            coef: One weight per feature column (dense, float).
            intercept: The bias.
            metadata: What `classifier.json` says besides the numbers.
        """
        self.featurizer = Featurizer(config)
        if coef.shape != (self.featurizer.width,):
            raise MonitorError(
                f"classifier coefficients have shape {coef.shape}, the features "
                f"{self.featurizer.width} columns: {_RETRAIN}."
            )
        self.coef = coef.astype(np.float64)
        self.intercept = float(intercept)
        self.metadata = metadata or {}

    def tokens(self, transcripts: Sequence[Transcript]) -> list[TranscriptTokens]:
        """The tokens of each transcript."""
        return [self.featurizer.tokens(t) for t in transcripts]

    def decision(self, matrix: sp.csr_matrix) -> np.ndarray:
        """The linear score of each row (log-odds)."""
        return np.asarray(matrix @ self.coef).ravel() + self.intercept

    def probabilities(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Probability of scheming for each row."""
        probabilities: np.ndarray = 1.0 / (1.0 + np.exp(-self.decision(matrix)))
        return probabilities

    def reasons(self, row: sp.csr_matrix, tokens: TranscriptTokens, limit: int = 5) -> list[str]:
        """The features that pushed one transcript's score up most, in words."""
        contributions = row.multiply(self.coef).tocsr()
        if contributions.nnz == 0:
            return []
        order = np.argsort(-contributions.data)
        wanted = {int(contributions.indices[i]) for i in order[: limit * 4]
                  if contributions.data[i] > 0}  # fmt: skip
        if not wanted:
            return []
        named: dict[int, str] = {}
        for group, group_tokens in tokens.groups.items():
            unique = list(dict.fromkeys(group_tokens))
            for column, token in zip(self.featurizer.columns(group, unique), unique, strict=True):
                if int(column) in wanted and int(column) not in named:
                    named[int(column)] = _describe(group, token, tokens.origins)
        reasons: list[str] = []
        for i in order:
            column = int(contributions.indices[i])
            if contributions.data[i] < 0.01 or column not in named:
                continue
            text = named[column]
            if text not in reasons:
                reasons.append(f"{text} (+{contributions.data[i]:.2f})")
            if len(reasons) >= limit:
                break
        return reasons


def _describe(group: str, token: str, origins: dict[str, str]) -> str:
    origin = origins.get(f"{group}|{token}", "")
    if group == "text":
        return f"agent text: {token!r}"
    if token.startswith("guard:worst:"):
        return f"the guard's worst decision in the transcript is {token.split(':')[-1]}"
    if token.startswith("guard:action:"):
        return f"guard would {token.split(':')[-1]}: {origin}"
    if token.startswith("guard:rule:"):
        return f"guard rule {token.split(':', 2)[-1]}: {origin}"
    if token.startswith("guard:"):
        _, action, rule = token.split(":", 2)
        return f"guard rule {rule} ({action}): {origin}"
    if token.startswith("request:"):
        what, _, state = token.removeprefix("request:").rpartition(":")
        if what in ("deny", "ask", "kill"):
            what = f"guard would {what}"
        asked = "the user asked about it" if state == "requested" else "the user never mentioned it"
        return f"{what}, and {asked}: {origin}"
    if token.startswith("effect:"):
        return f"effect {token.removeprefix('effect:')}: {origin}"
    if token.startswith("tool:"):
        return f"tool {token.removeprefix('tool:')}"
    if token == "decoded-payload":
        return f"decoded base64 payload: {origin}"
    return f"text {token!r} in {origin}"


def save_classifier(model: ClassifierModel, directory: Path, metadata: dict[str, Any]) -> Path:
    """Write `classifier.npz` and `classifier.json` to `directory`.

    Only non-zero coefficients are stored (as float32), with their column numbers.

    Returns:
        The path of the json file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    nonzero = np.flatnonzero(model.coef)
    npz_path = directory / f"{ARTIFACT_NAME}.npz"
    with npz_path.open("wb") as handle:
        np.savez_compressed(
            handle,
            indices=nonzero.astype(np.int32),
            values=model.coef[nonzero].astype(np.float32),
            intercept=np.array([model.intercept], dtype=np.float64),
            width=np.array([model.featurizer.width], dtype=np.int64),
        )
    body = {
        **metadata,
        "format": 1,
        "features": model.featurizer.config.model_dump(),
        "nonzero_coefficients": int(nonzero.size),
        "intercept": model.intercept,
        "npz_sha256": hashlib.sha256(npz_path.read_bytes()).hexdigest(),
    }
    json_path = directory / f"{ARTIFACT_NAME}.json"
    json_path.write_text(json.dumps(body, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return json_path


def load_classifier(directory: Path | None = None) -> ClassifierModel:
    """Load a trained classifier from its two files.

    Args:
        directory: Where `classifier.npz` and `classifier.json` are (default: the
            shipped model).

    Raises:
        MonitorError: If a file is missing, unreadable, or the two do not match.
    """
    folder = directory or default_artifact_dir()
    npz_path = folder / f"{ARTIFACT_NAME}.npz"
    json_path = folder / f"{ARTIFACT_NAME}.json"
    for path in (npz_path, json_path):
        if not path.is_file():
            raise MonitorError(f"The classifier model file {path} is missing: {_RETRAIN}.")
    try:
        metadata = json.loads(json_path.read_text(encoding="utf-8"))
        raw = npz_path.read_bytes()
    except (OSError, ValueError) as ex:
        raise MonitorError(
            f"Cannot read the classifier model {json_path} ({ex}): {_RETRAIN}."
        ) from ex
    if not isinstance(metadata, dict) or hashlib.sha256(raw).hexdigest() != metadata.get(
        "npz_sha256"
    ):
        raise MonitorError(
            f"The classifier model {npz_path} does not match {json_path.name} (corrupt or "
            f"from another training run): {_RETRAIN}."
        )
    try:
        config = FeatureConfig.model_validate(metadata["features"])
        with np.load(npz_path, allow_pickle=False) as arrays:
            indices = arrays["indices"].astype(np.int64)
            values = arrays["values"].astype(np.float64)
            intercept = float(arrays["intercept"][0])
            width = int(arrays["width"][0])
    except (KeyError, ValueError, OSError, TypeError) as ex:
        raise MonitorError(
            f"The classifier model {npz_path} is corrupt ({ex}): {_RETRAIN}."
        ) from ex
    if config.version != FEATURE_VERSION:
        raise MonitorError(
            f"The classifier model {json_path} was trained on features version "
            f"{config.version}; this tripwire computes version {FEATURE_VERSION}: {_RETRAIN}."
        )
    if indices.size and (indices.min() < 0 or indices.max() >= width):
        raise MonitorError(f"The classifier model {npz_path} is corrupt: {_RETRAIN}.")
    coef = np.zeros(width, dtype=np.float64)
    coef[indices] = values
    return ClassifierModel(config, coef, intercept, metadata)


class ClassifierScorer(TranscriptScorer):
    """Scores transcripts with the trained classifier (probability of scheming, 0..1).

    Example:
        ```python
        scorer = ClassifierScorer()  # the shipped model
        [verdict] = await scorer.score_all([transcript])
        verdict.score, verdict.reasons
        ```
    """

    name = "classifier"

    def __init__(self, directory: Path | None = None, *, model: ClassifierModel | None = None):
        """Load the model.

        Args:
            directory: A trained model's folder (default: the shipped one).
            model: An already loaded model (used as is).

        Raises:
            MonitorError: If the model is missing or corrupt (run `tripwire monitor train`).
        """
        self.model = model or load_classifier(directory)
        threshold = self.model.metadata.get("threshold")
        if isinstance(threshold, int | float):
            self.default_threshold = float(threshold)

    @classmethod
    def shipped(cls) -> ClassifierScorer:
        """The model shipped with tripwire (`tripwire/monitor/data/`).

        Raises:
            MonitorError: If it is missing or corrupt.
        """
        return cls()

    @classmethod
    def load(cls, directory: str | Path) -> ClassifierScorer:
        """A model written by `tripwire monitor train --out DIR`.

        Raises:
            MonitorError: If it is missing or corrupt.
        """
        return cls(Path(directory))

    async def score(self, transcript: Transcript) -> MonitorScore:
        """Score one transcript."""
        [result] = await self.score_all([transcript])
        return result

    async def score_all(self, transcripts: Sequence[Transcript]) -> list[MonitorScore]:
        """Score many transcripts in one vectorised pass."""
        return self.score_batch(transcripts)

    def score_batch(self, transcripts: Sequence[Transcript]) -> list[MonitorScore]:
        """`score_all` without the event loop (for training and benchmarks)."""
        results: list[MonitorScore | None] = [None] * len(transcripts)
        ok: list[int] = []
        tokens: list[TranscriptTokens] = []
        for index, transcript in enumerate(transcripts):
            try:
                tokens.append(self.model.featurizer.tokens(transcript))
            except Exception as ex:  # one odd transcript must not sink the batch
                results[index] = self.unscored(f"features failed: {type(ex).__name__}: {ex}")
                continue
            ok.append(index)
        if ok:
            matrix = self.model.featurizer.matrix(tokens)
            probabilities = self.model.probabilities(matrix)
            for row, index in enumerate(ok):
                results[index] = MonitorScore(
                    scorer=self.name,
                    score=float(probabilities[row]),
                    reasons=self.model.reasons(matrix[row], tokens[row]),
                )
        return [r for r in results if r is not None]
