"""Monitors: score agent transcripts for scheming, and measure how well they catch it.

```python
from tripwire.monitor import read_transcripts, RulesScorer

report = read_transcripts(["runs/"])  # OpenAI JSON/JSONL, Inspect .eval, Claude Code JSONL
scores = [await RulesScorer().score(t) for t in report.transcripts]
```

The classifier, its corpus and training load scikit-learn and the scenario harness, so
they are imported on first use (`tripwire.monitor.ClassifierScorer` still works).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._control import (
    DEFAULT_BUDGETS,
    ControlReport,
    ControlRow,
    ControlRun,
    control_report,
    control_runs,
    control_runs_from_logs,
    control_runs_from_logs_async,
    measured_usefulness,
)
from ._control_plot import plot_safety_usefulness, safety_usefulness_figure
from ._cues import CueHit, ReasoningCue, find_cues, load_cues
from ._ensemble import EnsembleScorer
from ._inspect_scorer import transcript_monitor
from ._llm import DEFAULT_LLM_CONFIG, LLMMode, LLMScorer, parse_monitor_answer
from ._metrics import (
    DEFAULT_FPRS,
    MonitorMetrics,
    RocCurve,
    monitor_metrics,
    plot_roc,
    roc_figure,
)
from ._read import (
    ReadFailure,
    ReadReport,
    SourceFormat,
    iter_transcripts,
    read_transcripts,
    sniff_format,
)
from ._read_claude import read_claude_code
from ._read_inspect import read_inspect_log, transcript_from_messages, transcript_from_sample
from ._read_openai import read_openai
from ._rules import RulesScorer, guard_decisions
from ._score import MonitorScore, TranscriptScorer
from ._select import SCORER_NAMES, ScorerName, scorer_named
from ._transcript import (
    Role,
    Transcript,
    TranscriptFormat,
    TranscriptMessage,
    TranscriptToolCall,
)

if TYPE_CHECKING:
    from ._benign import benign_corpus
    from ._classifier import ClassifierScorer
    from ._corpus import Corpus, LabelledTranscript, export_corpus
    from ._train import HeldOutMetrics, TrainReport, build_corpus, train_classifier

# Names whose modules import scikit-learn or the scenario harness: loaded on first use.
_LAZY = {
    "benign_corpus": "._benign",
    "ClassifierScorer": "._classifier",
    "Corpus": "._corpus",
    "LabelledTranscript": "._corpus",
    "export_corpus": "._corpus",
    "HeldOutMetrics": "._train",
    "TrainReport": "._train",
    "build_corpus": "._train",
    "train_classifier": "._train",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BUDGETS",
    "DEFAULT_FPRS",
    "DEFAULT_LLM_CONFIG",
    "SCORER_NAMES",
    "ClassifierScorer",
    "ControlReport",
    "ControlRow",
    "ControlRun",
    "Corpus",
    "CueHit",
    "EnsembleScorer",
    "HeldOutMetrics",
    "LLMMode",
    "LLMScorer",
    "LabelledTranscript",
    "MonitorMetrics",
    "MonitorScore",
    "ReadFailure",
    "ReadReport",
    "ReasoningCue",
    "RocCurve",
    "Role",
    "RulesScorer",
    "ScorerName",
    "SourceFormat",
    "TrainReport",
    "Transcript",
    "TranscriptFormat",
    "TranscriptMessage",
    "TranscriptScorer",
    "TranscriptToolCall",
    "benign_corpus",
    "build_corpus",
    "control_report",
    "control_runs",
    "control_runs_from_logs",
    "control_runs_from_logs_async",
    "export_corpus",
    "find_cues",
    "guard_decisions",
    "iter_transcripts",
    "load_cues",
    "measured_usefulness",
    "monitor_metrics",
    "parse_monitor_answer",
    "plot_roc",
    "plot_safety_usefulness",
    "read_claude_code",
    "read_inspect_log",
    "read_openai",
    "read_transcripts",
    "roc_figure",
    "safety_usefulness_figure",
    "scorer_named",
    "sniff_format",
    "train_classifier",
    "transcript_from_messages",
    "transcript_from_sample",
    "transcript_monitor",
]
