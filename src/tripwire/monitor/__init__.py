"""Monitors: score agent transcripts for scheming, and measure how well they catch it.

```python
from tripwire.monitor import read_transcripts, RulesScorer

report = read_transcripts(["runs/"])  # OpenAI JSON/JSONL, Inspect .eval, Claude Code JSONL
scores = [await RulesScorer().score(t) for t in report.transcripts]
```
"""

from ._cues import CueHit, ReasoningCue, find_cues, load_cues
from ._ensemble import EnsembleScorer
from ._inspect_scorer import transcript_monitor
from ._metrics import DEFAULT_FPRS, MonitorMetrics, RocCurve, monitor_metrics, plot_roc
from ._read_inspect import read_inspect_log, transcript_from_messages, transcript_from_sample
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

__all__ = [
    "CueHit",
    "DEFAULT_FPRS",
    "EnsembleScorer",
    "MonitorMetrics",
    "MonitorScore",
    "ReasoningCue",
    "RocCurve",
    "RulesScorer",
    "SCORER_NAMES",
    "ScorerName",
    "Role",
    "Transcript",
    "TranscriptFormat",
    "TranscriptMessage",
    "TranscriptScorer",
    "TranscriptToolCall",
    "find_cues",
    "load_cues",
    "guard_decisions",
    "monitor_metrics",
    "plot_roc",
    "scorer_named",
    "transcript_monitor",
    "read_inspect_log",
    "transcript_from_messages",
    "transcript_from_sample",
]
