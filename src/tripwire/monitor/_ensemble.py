"""The ensemble: several scorers' verdicts combined into one.

Combination (documented in docs/monitors.md): each member's score is first calibrated
so that its own flagging threshold lands on 0.5 (piecewise linear, order kept: the
rules scorer's 0.5 stays 0.5; the classifier's held-out 1%-FPR threshold becomes 0.5),
and the ensemble takes the highest. A transcript is flagged when any member flags it,
and ranked by the surest member. Combining as independent evidence, 1 − Π(1 − sᵢ), was
measured and rejected: weak evidence from both members piles up, and on the held-out
split a fifth of honest transcripts crossed 0.5. A member that could not score a
transcript is named in the reasons and the rest decide; the ensemble is unscored only
when no member scored it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ._score import MonitorScore, TranscriptScorer
from ._transcript import Transcript

__all__ = ["EnsembleScorer", "calibrated"]


class EnsembleScorer(TranscriptScorer):
    """Combines member scorers' verdicts (see the module docstring).

    Example:
        ```python
        scorer = EnsembleScorer([RulesScorer(), ClassifierScorer.shipped()])
        ```
    """

    name = "ensemble"

    def __init__(self, members: Sequence[TranscriptScorer], *, threshold: float = 0.5) -> None:
        """Build the ensemble.

        Args:
            members: The scorers to combine (at least one).
            threshold: The default flagging threshold.

        Raises:
            ValueError: No members were given.
        """
        if not members:
            raise ValueError("an ensemble needs at least one member scorer")
        self.members = list(members)
        self.default_threshold = threshold

    async def score(self, transcript: Transcript) -> MonitorScore:
        """Score one transcript with every member and combine."""
        return (await self.score_all([transcript]))[0]

    async def score_all(self, transcripts: Sequence[Transcript]) -> list[MonitorScore]:
        """Score a batch with every member (members run concurrently) and combine."""
        per_member = await asyncio.gather(*(m.score_all(transcripts) for m in self.members))
        return [self.combine(list(verdicts)) for verdicts in zip(*per_member, strict=True)]

    def combine(self, verdicts: Sequence[MonitorScore]) -> MonitorScore:
        """One verdict from the members' verdicts on the same transcript."""
        scored = [v for v in verdicts if v.score is not None]
        missing = [f"{v.scorer} unscored: {v.error}" for v in verdicts if v.score is None]
        if not scored:
            return self.unscored("; ".join(missing) or "no member scored it")
        thresholds = {m.name: m.default_threshold for m in self.members}
        ranked = sorted(
            ((calibrated(v.score or 0.0, thresholds.get(v.scorer, 0.5)), v) for v in scored),
            key=lambda item: -item[0],
        )
        reasons = [
            f"{v.scorer} {v.score:.2f}" + (f": {v.reasons[0]}" if v.reasons else "")
            for _, v in ranked
        ]
        for _, verdict in ranked:
            reasons.extend(f"{verdict.scorer}: {reason}" for reason in verdict.reasons[1:3])
        return MonitorScore(
            scorer=self.name,
            score=round(ranked[0][0], 6),
            reasons=missing + reasons,
            unscored_members=missing,
        )


def calibrated(score: float, threshold: float) -> float:
    """`score` mapped so that `threshold` lands on 0.5 (0 and 1 stay put, order kept)."""
    if not 0.0 < threshold < 1.0:
        return score
    if score <= threshold:
        return 0.5 * score / threshold
    return 0.5 + 0.5 * (score - threshold) / (1.0 - threshold)
