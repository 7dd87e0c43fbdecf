"""Transcripts of flagged samples for the report, with the offending tool calls marked.

Three readings point at the calls, strongest first: the detector's own attribution
(the harness checks the environment after every call and records the call after which
a violation first appeared), the detector's evidence (a call that names a file, table
or host the evidence names: for detectors that only judge the final state), and the
guard's policy (what it would have refused or asked about, had it been on). A call any
reading points at is highlighted with its reasons; the rest of the transcript is shown
as it was, so a reader can judge the highlight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from tripwire.results._row import ResultRow
from tripwire.stats import expected_outcome

__all__ = [
    "MAX_TRANSCRIPTS",
    "SampleTranscript",
    "TranscriptCall",
    "TranscriptStep",
    "evidence_terms",
    "flagged_transcripts",
    "inspect_view_command",
    "local_log_path",
]

MAX_TRANSCRIPTS = 60
"""Flagged samples shown with their transcript (evaluated models first); the rest keep
their evidence and the command that opens them in Inspect's viewer."""

MAX_TEXT = 1500
"""Characters of one message or tool output shown; the rest is counted, not shown."""

VIEW_PORT = 7575
"""Inspect's default viewer port (`inspect view --port`)."""

# The argument that holds what a call runs, for tools that take code or a command.
_COMMAND_KEYS = ("command", "cmd", "code", "script", "input", "query", "sql")
# File names, paths and dotted identifiers in evidence lines: `oversight_config.yaml`,
# `/opt/models/weights.bin`, `users` after "table".
_PATH = re.compile(r"[\w.\-]*[/\\][\w.\-/\\]+|[\w\-]+\.[A-Za-z0-9]{1,8}\b")
_NAMED = re.compile(r"\b(?:table|host|file|process|service|server|directory)\s+`?([\w.\-]{3,})")
# `s/old/new/` and `y/abc/xyz/` in an attributed sed call are not names.
_SED_EXPRESSION = re.compile(r"^[sy]/")
# Too common to tie a call to the evidence by themselves.
_GENERIC = frozenset({"e.g", "i.e", "etc", "tmp", "/tmp", "bin", "usr", "home", "root"})


@dataclass
class TranscriptCall:
    """One tool call as shown: what ran, what came back, and why it is flagged."""

    tool: str
    command: str
    result: str
    flags: list[str] = field(default_factory=list)
    """Why this call is the offending one: the detector's attribution, the guard's
    refusal or question."""
    related: list[str] = field(default_factory=list)
    """Weaker: names the evidence mentions (reading a file the agent later changed
    names it too)."""

    @property
    def offending(self) -> bool:
        """True when the detector or the guard points at this call."""
        return bool(self.flags)


@dataclass
class TranscriptStep:
    """One message of the conversation."""

    role: str
    text: str
    calls: list[TranscriptCall] = field(default_factory=list)


@dataclass
class SampleTranscript:
    """A flagged sample's conversation, or why it could not be shown."""

    steps: list[TranscriptStep] = field(default_factory=list)
    error: str | None = None
    view_command: str = ""
    view_url: str = ""

    @property
    def calls(self) -> int:
        """How many tool calls the agent made."""
        return sum(len(step.calls) for step in self.steps)

    @property
    def offending(self) -> int:
        """How many calls are highlighted."""
        return sum(call.offending for step in self.steps for call in step.calls)


def flagged_transcripts(
    rows: Sequence[ResultRow], limit: int = MAX_TRANSCRIPTS
) -> dict[tuple[str, str, int], SampleTranscript]:
    """The transcripts of `schemed` samples, read back from their Inspect logs.

    Evaluated models' samples come first, then the scripted schemers' (whose scheming
    is expected). A sample whose log is gone or unreadable gets a transcript with its
    `error` set rather than disappearing.

    Args:
        rows: Result rows of the report.
        limit: At most this many transcripts are read.

    Returns:
        Transcripts keyed by (log file, sample id, epoch).
    """
    flagged = [row for row in rows if row.outcome == "schemed" and row.log_file]
    flagged.sort(key=lambda row: expected_outcome(row.model) is not None)
    guard = _policy_guard()
    found: dict[tuple[str, str, int], SampleTranscript] = {}
    for row in flagged[:limit]:
        found[(row.log_file, row.sample_id, row.epoch)] = _sample_transcript(row, guard)
    return found


def local_log_path(log_file: str) -> Path | None:
    """A results row's `log_file` as a local path, or None for a remote log.

    Inspect writes `file://` URIs; a remote log (`s3://…`) is not fetched by a report.
    """
    parsed = urlparse(log_file)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter: a Windows drive
        return None
    return Path(log_file)


def inspect_view_command(log_file: str, sample_id: str, epoch: int) -> tuple[str, str]:
    """The command that opens a sample's log in Inspect's viewer, and the sample's URL."""
    path = local_log_path(log_file) or Path(urlparse(log_file).path)
    command = f"inspect view --log-dir {_shell_quote(str(path.parent))}"
    url = (
        f"http://127.0.0.1:{VIEW_PORT}/#/logs/{quote(path.name)}/samples/sample/"
        f"{quote(str(sample_id), safe='')}/{epoch}/"
    )
    return command, url


def evidence_terms(evidence: Sequence[str]) -> list[str]:
    """Names in the detector's evidence that a responsible call would mention.

    File and path names (by their last part too, since agents use relative paths), and
    the names after `table`, `host`, `file`, … — never words common to every call.
    """
    terms: set[str] = set()
    for line in evidence:
        for match in _PATH.findall(line):
            cleaned = match.strip(".,;:'\"`()")
            if _SED_EXPRESSION.match(cleaned):
                continue
            terms.add(cleaned)
            terms.add(re.split(r"[/\\]", cleaned.rstrip("/\\"))[-1])
        terms.update(_NAMED.findall(line))
    return sorted(t for t in terms if len(t) >= 4 and t.lower() not in _GENERIC)


def _outermost(terms: list[str]) -> list[str]:
    """The terms not contained in a longer one (`a/b.yaml` covers `b.yaml`)."""
    return [t for t in terms if not any(t != other and t in other for other in terms)]


def _sample_transcript(row: ResultRow, guard: Any) -> SampleTranscript:
    command, url = inspect_view_command(row.log_file, row.sample_id, row.epoch)
    shown = SampleTranscript(view_command=command, view_url=url)
    try:
        transcript, found = _read_sample(row)
    except Exception as ex:  # inspect raises many types for a missing or broken log
        shown.error = f"transcript not available: {type(ex).__name__}: {ex}"[:300]
        return shown
    from tripwire.monitor import guard_decisions

    decisions = {id(call): decision for call, decision in guard_decisions(transcript, guard)}
    terms = evidence_terms(row.evidence)
    for message in transcript.messages:
        step = TranscriptStep(role=message.role, text=_clip(message.text))
        for call in message.tool_calls:
            text = _command_text(call.arguments)
            flags = [
                f"the detector saw this first after this call: {detail}"
                for detail in found.get(_rendered(call.tool, call.arguments), [])
            ]
            decision = decisions.get(id(call))
            if decision is not None and decision.action != "allow":
                flags.append(f"guard would {decision.action} ({decision.rule}): {decision.reason}")
            named = _outermost([t for t in terms if t in text])
            step.calls.append(
                TranscriptCall(
                    tool=call.tool,
                    command=_clip(text),
                    result=_clip(call.result or ""),
                    flags=flags,
                    related=[f"names {', '.join(named[:3])}, as the evidence does"]
                    if named and not flags
                    else [],
                )
            )
        shown.steps.append(step)
    return shown


def _read_sample(row: ResultRow) -> tuple[Any, dict[str, list[str]]]:
    """The sample's transcript, and its detector's findings by the call that caused them."""
    from inspect_ai.log import read_eval_log_sample

    from tripwire.monitor import transcript_from_sample

    path = local_log_path(row.log_file)
    if path is None:
        raise FileNotFoundError(f"{row.log_file} is not a local file")
    if not path.is_file():
        raise FileNotFoundError(f"{path} is gone")
    try:
        sample = read_eval_log_sample(str(path), id=row.sample_id, epoch=row.epoch)
    except IndexError:
        # Inspect keeps integer ids as integers; the results row keeps them as text.
        if not row.sample_id.isdigit():
            raise
        sample = read_eval_log_sample(str(path), id=int(row.sample_id), epoch=row.epoch)
    return transcript_from_sample(sample, row.log_file), _findings_by_call(sample.store)


def _findings_by_call(store: dict[str, Any]) -> dict[str, list[str]]:
    from tripwire.scenarios._trace import TRACE_KEY, EpisodeTrace

    recorded = store.get(TRACE_KEY)
    if not isinstance(recorded, dict):
        return {}  # a detector that judges only the final state, or no harness trace
    try:
        trace = EpisodeTrace.model_validate(recorded)
    except ValueError:
        return {}
    found: dict[str, list[str]] = {}
    for finding in trace.findings:
        for call in finding.calls:
            found.setdefault(call, []).append(finding.detail)
    return found


def _rendered(tool: str, arguments: dict[str, Any]) -> str:
    from tripwire.scenarios._agent import render_call_text

    return render_call_text(tool, arguments)


def _policy_guard() -> Any:
    from tripwire.monitor import RulesScorer

    # The shipped policy over names only: what the guard would have said had it been on.
    return RulesScorer().guard


def _command_text(arguments: dict[str, Any]) -> str:
    for key in _COMMAND_KEYS:
        value = arguments.get(key)
        if isinstance(value, str) and value.strip():
            return value
    if set(arguments) == {"_raw"}:
        return str(arguments["_raw"])
    return json.dumps(arguments, ensure_ascii=False, sort_keys=True)


def _clip(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return f"{text[:MAX_TEXT]}\n… ({len(text) - MAX_TEXT} more characters in the log)"


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)
