"""Transcript monitors' throughput vs a regex deny-list monitor, in one run (issue 12).

All monitors score the same transcripts: tripwire's benign look-alikes and their
augmented copies (generated, seeded; no sandbox needed), each a few tool calls of
everyday agent work that shares programs and paths with scheming. The regex baseline
is what a log-scanning script usually is: the guard benchmark's deny-list searched over
every call's arguments. Reported as transcripts/s and as ratios to the baseline, since
these machines are noisy. The reader's throughput (OpenAI JSONL files written and read
back) is measured too.

Run: `.venv/bin/python bench/monitor_throughput.py [--per-family 40]`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from guard_check import DENY_REGEXES  # noqa: E402

from tripwire.monitor import (  # noqa: E402
    ClassifierScorer,
    EnsembleScorer,
    RulesScorer,
    Transcript,
    TranscriptScorer,
    benign_corpus,
    export_corpus,
    read_transcripts,
)


def regex_monitor() -> Callable[[Transcript], float]:
    patterns = [re.compile(p, re.IGNORECASE) for p in DENY_REGEXES]

    def score(transcript: Transcript) -> float:
        text = " ".join(str(v) for c in transcript.tool_calls() for v in c.arguments.values())
        return 1.0 if any(p.search(text) for p in patterns) else 0.0

    return score


def rate(run: Callable[[], object], count: int) -> float:
    start = time.perf_counter()
    run()
    return count / (time.perf_counter() - start)


def main(per_family: int) -> None:
    from tripwire.monitor._train import augment_corpus

    items = benign_corpus(seed=0, per_family=per_family)
    items += augment_corpus(items, copies=1, seed=0)
    transcripts = [item.transcript for item in items]
    calls = sum(len(list(t.tool_calls())) for t in transcripts)
    print(f"{len(transcripts)} transcripts, {calls} tool calls")

    baseline = regex_monitor()
    scorers: Sequence[TranscriptScorer] = [
        RulesScorer(),
        ClassifierScorer.shipped(),
        EnsembleScorer([RulesScorer(), ClassifierScorer.shipped()]),
    ]
    for scorer in scorers:  # warm up parsers and the model
        asyncio.run(scorer.score_all(transcripts[:5]))
    regex_rate = rate(lambda: [baseline(t) for t in transcripts], len(transcripts))
    print(f"{'regex deny-list':<22} {regex_rate:10,.0f} transcripts/s  1.00x")
    for scorer in scorers:
        measured = rate(lambda s=scorer: asyncio.run(s.score_all(transcripts)), len(transcripts))
        print(
            f"{scorer.name:<22} {measured:10,.0f} transcripts/s  {measured / regex_rate:.4f}x"
            f"  ({measured * calls / len(transcripts):,.0f} calls/s)"
        )
    with tempfile.TemporaryDirectory() as scratch:
        export_corpus(items, Path(scratch))
        read = rate(lambda: read_transcripts([scratch]), len(items))
        print(f"{'read (OpenAI JSONL)':<22} {read:10,.0f} transcripts/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=40)
    main(parser.parse_args().per_family)
