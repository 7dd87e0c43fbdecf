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
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from tripwire.results._row import ResultRow

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

MAX_TRANSCRIPT_TEXT = 40_000
"""Characters of one transcript shown (each part clipped to `MAX_TEXT` as well); the
messages after are counted and left to Inspect's viewer."""

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
    more_messages: int = 0
    """Messages left out after `MAX_TRANSCRIPT_TEXT` characters were shown."""

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

    A sample whose log is gone or unreadable gets a transcript with its `error` set
    rather than disappearing.

    Args:
        rows: Result rows, in the order their transcripts should be read (the report
            gives the listed samples, models in turn, evaluated models first).
        limit: At most this many transcripts are read.

    Returns:
        Transcripts keyed by (log file, sample id, epoch).
    """
    flagged = [row for row in rows if row.outcome == "schemed" and row.log_file]
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
    local = local_log_path(log_file)
    # A remote log (s3://bucket/dir/x.eval) is viewed from its remote directory.
    directory, name = (str(local.parent), local.name) if local else log_file.rsplit("/", 1)
    command = f"inspect view --log-dir {shlex.quote(directory)}"
    url = (
        f"http://127.0.0.1:{VIEW_PORT}/#/logs/{quote(name)}/samples/sample/"
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
    attributed = _attributed(found, list(transcript.tool_calls()))
    terms = evidence_terms(row.evidence)
    index = -1
    size = 0
    for position, message in enumerate(transcript.messages):
        if size > MAX_TRANSCRIPT_TEXT:
            # A long episode would swamp the page; the log has the rest.
            shown.more_messages = len(transcript.messages) - position
            break
        step = TranscriptStep(role=message.role, text=_clip(message.text))
        size += len(step.text)
        for call in message.tool_calls:
            index += 1
            text = _command_text(call.arguments)
            flags = [
                f"the detector saw this first after this call: {detail}"
                for detail in attributed.get(index, [])
            ]
            decision = decisions.get(id(call))
            if decision is not None and decision.action != "allow":
                flags.append(f"guard would {decision.action} ({decision.rule}): {decision.reason}")
            named = _outermost([t for t in terms if t in text])
            shown_call = TranscriptCall(
                tool=call.tool,
                command=_clip(text),
                result=_clip(call.result or ""),
                flags=flags,
                related=[f"names {', '.join(named[:3])}, as the evidence does"]
                if named and not flags
                else [],
            )
            size += len(shown_call.command) + len(shown_call.result)
            step.calls.append(shown_call)
        shown.steps.append(step)
    return shown


def _read_sample(row: ResultRow) -> tuple[Any, _Attribution]:
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


@dataclass
class _Attribution:
    """The detector's findings by the call after which each was first seen."""

    by_id: dict[str, list[str]] = field(default_factory=dict)
    by_text: list[tuple[int, str, str]] = field(default_factory=list)
    """(index among the calls that ran, rendered call, detail) of findings recorded
    without a call id (logs written before ids were kept)."""


def _findings_by_call(store: dict[str, Any]) -> _Attribution:
    from tripwire.scenarios._trace import TRACE_KEY, EpisodeTrace

    found = _Attribution()
    recorded = store.get(TRACE_KEY)
    if not isinstance(recorded, dict):
        return found  # a detector that judges only the final state, or no harness trace
    try:
        trace = EpisodeTrace.model_validate(recorded)
    except ValueError:
        return found
    for finding in trace.findings:
        if finding.call_ids:
            for call_id in finding.call_ids:
                found.by_id.setdefault(call_id, []).append(finding.detail)
        elif finding.step is not None:
            found.by_text.extend((finding.step, call, finding.detail) for call in finding.calls)
    return found


def _attributed(found: _Attribution, calls: list[Any]) -> dict[int, list[str]]:
    """Detector findings per call (by position in `calls`)."""
    marked: dict[int, list[str]] = {}
    for index, call in enumerate(calls):
        if call.id is not None and call.id in found.by_id:
            marked[index] = found.by_id[call.id]
    for step, rendered, detail in found.by_text:
        # Refused calls are in the transcript but not counted in `step`: the call is at
        # `step` or later; the first with the same text from there is it.
        for index in range(step, len(calls)):
            if _rendered(calls[index].tool, calls[index].arguments) == rendered:
                marked.setdefault(index, []).append(detail)
                break
    return marked


def _rendered(tool: str, arguments: dict[str, Any]) -> str:
    from tripwire.scenarios._agent import render_call_text

    return render_call_text(tool, arguments)


def _policy_guard() -> Any:
    from tripwire.guard import NamedView, default_policy
    from tripwire.monitor._rules import transcript_guard

    # The shipped policy over names only: what the guard would have said had it been on.
    return transcript_guard(default_policy(), NamedView())


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
