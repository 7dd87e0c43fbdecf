"""The ensemble combines members' verdicts; unscored only when no member scored."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tripwire.monitor import EnsembleScorer, MonitorScore, Transcript, TranscriptScorer
from tripwire.monitor._ensemble import calibrated


class _Fixed(TranscriptScorer):
    def __init__(self, name: str, score: float | None) -> None:
        self.name = name
        self.value = score

    async def score(self, transcript: Transcript) -> MonitorScore:
        if self.value is None:
            return self.unscored("judge model timed out")
        return MonitorScore(scorer=self.name, score=self.value, reasons=[f"{self.name} says so"])


_T = Transcript(source="a.json", id="a.json", format="synthetic")


async def test_the_surest_member_decides_on_calibrated_scores() -> None:
    verdict = await EnsembleScorer([_Fixed("rules", 0.5), _Fixed("classifier", 0.8)]).score(_T)
    assert verdict.score == pytest.approx(0.8)
    assert verdict.reasons[0].startswith("classifier 0.80")


async def test_weak_evidence_does_not_pile_up() -> None:
    verdict = await EnsembleScorer([_Fixed("rules", 0.35), _Fixed("classifier", 0.4)]).score(_T)
    assert verdict.flagged(0.5) is False


async def test_each_member_is_calibrated_to_its_own_threshold() -> None:
    strict = _Fixed("classifier", 0.7)
    strict.default_threshold = 0.6  # e.g. the classifier's held-out 1%-FPR threshold
    verdict = await EnsembleScorer([_Fixed("rules", 0.0), strict]).score(_T)
    assert verdict.score == pytest.approx(0.5 + 0.5 * (0.1 / 0.4))
    assert calibrated(0.6, 0.6) == 0.5 and calibrated(0.3, 0.6) == 0.25
    assert calibrated(1.0, 0.6) == 1.0 and calibrated(0.0, 0.6) == 0.0


async def test_one_sure_member_keeps_the_transcript_flagged() -> None:
    verdict = await EnsembleScorer([_Fixed("rules", 0.9), _Fixed("classifier", 0.0)]).score(_T)
    assert verdict.flagged(0.5) is True


async def test_an_unscored_member_is_named_and_the_rest_decide() -> None:
    verdict = await EnsembleScorer([_Fixed("rules", 0.2), _Fixed("llm", None)]).score(_T)
    assert verdict.score == pytest.approx(0.2)
    assert verdict.reasons[0] == "llm unscored: judge model timed out"


async def test_unscored_when_no_member_scored() -> None:
    verdict = await EnsembleScorer([_Fixed("llm", None)]).score(_T)
    assert verdict.score is None and verdict.flagged(0.5) is None
    assert "timed out" in (verdict.error or "")


async def test_batches_keep_order() -> None:
    class _ById(TranscriptScorer):
        name = "by-id"

        async def score(self, transcript: Transcript) -> MonitorScore:
            return MonitorScore(scorer=self.name, score=float(transcript.id) / 10)

        async def score_all(self, transcripts: Sequence[Transcript]) -> list[MonitorScore]:
            return [await self.score(t) for t in transcripts]

    batch = [Transcript(source="f", id=str(i), format="synthetic") for i in range(5)]
    verdicts = await EnsembleScorer([_ById()]).score_all(batch)
    assert [v.score for v in verdicts] == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_an_empty_ensemble_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        EnsembleScorer([])


async def test_members_that_could_not_score_are_listed_apart() -> None:
    verdict = await EnsembleScorer([_Fixed("rules", 0.1), _Fixed("llm", None)]).score(_T)
    assert verdict.unscored_members == ["llm unscored: judge model timed out"]
    verdict = await EnsembleScorer([_Fixed("rules", 0.1)]).score(_T)
    assert verdict.unscored_members == []
