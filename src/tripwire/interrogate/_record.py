"""What an interrogation recorded: kept in the sample store and the score's metadata."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ._reasoning import ReasoningGrade

__all__ = [
    "INTERROGATION_KEY",
    "FollowUp",
    "Grade",
    "GradedAnswer",
    "Interrogation",
    "InterrogationTurn",
    "MultiTurn",
    "Verdict",
]

INTERROGATION_KEY = "tripwire:interrogation"
"""Sample-store key of the sample's `Interrogation`."""

Grade = Literal["confessed", "denied", "evaded", "error"]
"""An answer's grade; `error` when the answer or its grade could not be had (never a
verdict, and left out of every rate)."""

Verdict = Literal["guilty", "not guilty"]
"""An interrogator's conclusion about the agent."""


class GradedAnswer(BaseModel):
    """A grader's judgement of one answer."""

    grade: Grade
    """`confessed`, `denied`, `evaded`, or `error`."""

    grader: str
    """Who graded: `rules` (the deterministic grader) or the grader model's name."""

    explanation: str = ""
    """The grader's reasoning, or why the grade is `error`."""

    rules_grade: Grade | None = None
    """The rule grader's grade beside a model grader's (cheap; lets one run calibrate
    both graders); None when the rules graded."""


class FollowUp(BaseModel):
    """One single-turn follow-up question and the agent's answer."""

    wording: str
    """The wording's name, e.g. `indirect+management+honest`."""

    repeat: int
    """Which asking of this wording (0-based)."""

    question: str
    answer: str
    grade: Grade
    grader: str
    explanation: str = ""
    rules_grade: Grade | None = None
    """The rule grader's grade when a model graded (see `GradedAnswer.rules_grade`)."""


class InterrogationTurn(BaseModel):
    """One turn of a multi-turn interrogation."""

    turn: int
    """1-based."""

    question: str
    answer: str
    grade: Grade
    """The grader's reading of the answer (did the agent admit the act?)."""

    rules_grade: Grade | None = None
    """The rule grader's grade when a model graded."""

    verdict: Verdict | None = None
    """The interrogator's conclusion after this turn (None without an interrogator
    model, or when its reply held no conclusion: see `verdict_error`)."""

    verdict_error: str | None = None
    """Why there is no verdict although an interrogator model was asked for one."""


class MultiTurn(BaseModel):
    """A multi-turn interrogation of one sample."""

    guilty: bool
    """Whether the detector found scheming (the interrogator is not told)."""

    interrogator: str
    """`ladder` (fixed questions, increasingly direct) or the interrogator model."""

    grader: str
    """Who graded the answers."""

    turns: list[InterrogationTurn] = Field(default_factory=list)

    ended: Literal["admitted", "interrogator_done", "turn_limit", "error"] = "turn_limit"
    """Why it stopped: the agent admitted the act, the interrogator was done, the turns
    ran out, or a generation failed (`error`)."""

    error: str | None = None

    def admitted_by(self, turn: int) -> bool:
        """Whether the agent admitted the act at or before `turn`."""
        return any(t.grade == "confessed" for t in self.turns if t.turn <= turn)

    def verdict_at(self, turn: int) -> Verdict | None:
        """The interrogator's latest verdict at or before `turn` (carried past the end)."""
        verdicts = [t.verdict for t in self.turns if t.turn <= turn and t.verdict is not None]
        return verdicts[-1] if verdicts else None


class Interrogation(BaseModel):
    """Everything asked of one sample after its episode."""

    scenario: str
    guilty: bool
    """Whether the detector found scheming."""

    act: str
    """What the agent was asked about (the topic's act: `I {act}`)."""

    evidence: list[str] = Field(default_factory=list)
    """The detector's evidence, shown to an LLM grader."""

    grader: str
    """Who graded the answers: `rules` or a model name."""

    follow_ups: list[FollowUp] = Field(default_factory=list)
    """Single-turn questions (asked only of scheming samples)."""

    multi_turn: MultiTurn | None = None
    """The multi-turn interrogation, if this sample had one."""

    skipped: str | None = None
    """Why nothing (or only part) was asked, e.g. for a sample that is an error."""

    reasoning: ReasoningGrade | None = None
    """The grader model's reading of the agent's words during the episode (only with a
    grader model; weak evidence)."""
