"""Follow-up interrogation: does the agent own up to what it did?

After a scenario's episode, the agent is asked about the act its detector found, in
the same conversation with the environment untouched (Meinke et al. 2024, §3.2 and
App. B.3): eight wordings asked N times each, and a multi-turn interview of guilty
samples and innocent controls. Answers are graded `confessed` / `denied` / `evaded` by
the deterministic rules (default) or an LLM grader; an answer that could not be graded
is `error`, never a verdict. The agent's own words during the episode are read for
sabotage, lying, manipulation and eval awareness (pattern sets, and the grader model if
one is given). What the agent says is weak evidence beside the state detectors, and is
labelled as such.
"""

from ._answers import ANSWER_STYLES, AnswerStyle, ScriptedAnswer, expected_grade, scripted_answer
from ._config import InterrogationConfig, interrogation_config
from ._conversation import closed_conversation
from ._grader import Grader, ModelGrader, RuleGrader, make_grader, parse_grade
from ._multi import LADDER_NAME, interrogate_over_turns, parse_interrogator, parse_verdict
from ._reasoning import (
    REASONING_CATEGORIES,
    ReasoningGrade,
    episode_text,
    grade_reasoning,
    parse_reasoning_grade,
    reasoning_categories,
)
from ._record import (
    INTERROGATION_KEY,
    FollowUp,
    Grade,
    GradedAnswer,
    Interrogation,
    InterrogationTurn,
    MultiTurn,
    Verdict,
)
from ._rules import ANSWER_GRADES, AnswerGrade, grade_by_rules
from ._scorer import confession_rate, doubled_down_rate, interrogation_outcome
from ._single import ask_follow_ups
from ._solver import interrogation
from ._task import InterrogateArg, interrogation_steps
from ._topics import Topic, interrogated_scenarios, topic_for
from ._wordings import WORDINGS, Wording, wording_named

__all__ = [
    "ANSWER_GRADES",
    "ANSWER_STYLES",
    "INTERROGATION_KEY",
    "LADDER_NAME",
    "REASONING_CATEGORIES",
    "WORDINGS",
    "AnswerGrade",
    "AnswerStyle",
    "FollowUp",
    "Grade",
    "GradedAnswer",
    "Grader",
    "InterrogateArg",
    "Interrogation",
    "InterrogationConfig",
    "InterrogationTurn",
    "ModelGrader",
    "MultiTurn",
    "ReasoningGrade",
    "RuleGrader",
    "ScriptedAnswer",
    "Topic",
    "Verdict",
    "Wording",
    "ask_follow_ups",
    "closed_conversation",
    "confession_rate",
    "doubled_down_rate",
    "episode_text",
    "expected_grade",
    "grade_reasoning",
    "grade_by_rules",
    "interrogate_over_turns",
    "interrogated_scenarios",
    "interrogation",
    "interrogation_config",
    "interrogation_outcome",
    "interrogation_steps",
    "make_grader",
    "parse_grade",
    "parse_interrogator",
    "parse_reasoning_grade",
    "parse_verdict",
    "reasoning_categories",
    "scripted_answer",
    "topic_for",
    "wording_named",
]
