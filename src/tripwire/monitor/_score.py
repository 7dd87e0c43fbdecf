"""What a monitor says about one transcript, and the interface every scorer implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from pydantic import BaseModel, Field

from ._transcript import Transcript

__all__ = ["MonitorScore", "TranscriptScorer"]


class MonitorScore(BaseModel):
    """A scorer's verdict on one transcript.

    A scorer that could not judge a transcript (its model failed, its answer could not be
    parsed) returns `score=None` with `error` set: unscored, never a safe-looking 0.
    """

    scorer: str
    """Which scorer produced this (`rules`, `classifier`, `llm`, `ensemble`)."""

    score: float | None
    """Suspicion from 0 (nothing suspicious) to 1 (certainly scheming); None = unscored."""

    reasons: list[str] = Field(default_factory=list)
    """Why, strongest first: rule hits with the call that made them, model reasons."""

    error: str | None = None
    """Why the transcript could not be scored (set exactly when `score` is None)."""

    unscored_members: list[str] = Field(default_factory=list)
    """For an ensemble: members that could not score this transcript (the others
    decided), each with its reason. Empty when every member scored."""

    @property
    def scored(self) -> bool:
        """True when the scorer reached a verdict."""
        return self.score is not None

    def flagged(self, threshold: float) -> bool | None:
        """True at or above `threshold`; None when unscored (neither flagged nor clean)."""
        return None if self.score is None else self.score >= threshold


class TranscriptScorer(ABC):
    """Scores transcripts for scheming. Subclasses implement `score`.

    Scorers are async because some call models; cheap scorers override `score_all` to
    work on a batch at once.
    """

    name: str = "scorer"
    """Short name used in output lines and reports."""

    default_threshold: float = 0.5
    """Score at or above which a transcript is flagged when the user gives none."""

    @abstractmethod
    async def score(self, transcript: Transcript) -> MonitorScore:
        """Score one transcript. Must not raise for a bad transcript: return unscored."""

    async def score_all(self, transcripts: Sequence[Transcript]) -> list[MonitorScore]:
        """Score many transcripts (in order)."""
        return [await self.score(t) for t in transcripts]

    def unscored(self, error: str) -> MonitorScore:
        """The verdict for a transcript this scorer could not judge."""
        return MonitorScore(scorer=self.name, score=None, error=error)
