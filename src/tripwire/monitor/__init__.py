"""Monitors: score agent transcripts for scheming, and measure how well they catch it.

```python
from tripwire.monitor import read_transcripts, RulesScorer

report = read_transcripts(["runs/"])  # OpenAI JSON/JSONL, Inspect .eval, Claude Code JSONL
scores = [await RulesScorer().score(t) for t in report.transcripts]
```
"""

from ._read_inspect import read_inspect_log, transcript_from_messages, transcript_from_sample
from ._score import MonitorScore, TranscriptScorer
from ._transcript import (
    Role,
    Transcript,
    TranscriptFormat,
    TranscriptMessage,
    TranscriptToolCall,
)

__all__ = [
    "MonitorScore",
    "Role",
    "Transcript",
    "TranscriptFormat",
    "TranscriptMessage",
    "TranscriptScorer",
    "TranscriptToolCall",
    "read_inspect_log",
    "transcript_from_messages",
    "transcript_from_sample",
]
