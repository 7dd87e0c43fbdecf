"""Read transcripts from files and directories in any format the monitors know.

```python
report = read_transcripts(["runs/", "session.jsonl"])
for failure in report.failures:
    print(failure)  # runs/a.jsonl:17: not JSON (Expecting ',' delimiter at column 40)
```

One bad file never stops the rest: it becomes a `ReadFailure`. Directories are read
recursively (hidden directories skipped, symlinked directories not followed); files are
picked by extension (`.json`, `.jsonl`, `.eval`) and told apart by their first bytes, and
files there that are no transcript (a `package.json`) are skipped without a word. A file
named on its own is always read, and reported if it cannot be.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from tripwire._errors import ConfigError, TranscriptError

from ._read_claude import read_claude_code
from ._read_inspect import read_inspect_log
from ._read_openai import transcripts_from_openai
from ._transcript import Transcript

__all__ = [
    "ReadFailure",
    "ReadReport",
    "SourceFormat",
    "iter_transcripts",
    "read_transcripts",
    "sniff_format",
]

SourceFormat = Literal["openai", "claude-code", "inspect"]
"""A transcript file format the readers know."""

_EXTENSIONS = (".json", ".jsonl", ".eval")
_HEAD = 64 * 1024
_CLAUDE_EVENTS = frozenset(
    {"user", "assistant", "system", "summary", "progress", "file-history-snapshot",
     "queue-operation"}
)  # fmt: skip
_OPENAI_ITEMS = frozenset(
    {"message", "reasoning", "response_item", "session_meta", "turn_context", "event_msg"}
)
_CLAUDE_KEYS = ("sessionId", "parentUuid", "leafUuid", "isSidechain")
_CLAUDE_KEY = re.compile(rb'"(sessionId|parentUuid|leafUuid|isSidechain)"\s*:')
_OPENAI_KEY = re.compile(rb'"(role|messages|tool_calls|function_call|call_id)"\s*:')
_INSPECT_JSON = re.compile(rb'^\s*\{\s*"version"\s*:\s*\d+\s*,\s*"status"\s*:')
_LOCATION = re.compile(r"^(?P<file>.*?):(?P<line>\d+): (?P<message>.*)$", re.DOTALL)


class ReadFailure(BaseModel):
    """A file (or one line of it) that could not be read as a transcript."""

    file: str
    """The file (or named path) as given."""

    line: int | None = None
    """The line the problem is on, when it has one."""

    message: str
    """What is wrong, without the location."""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


class ReadReport(BaseModel):
    """Every transcript read, and every file that could not be."""

    transcripts: list[Transcript] = Field(default_factory=list)
    """The transcripts, in the order of the paths given (directories sorted by name)."""

    failures: list[ReadFailure] = Field(default_factory=list)
    """Files or lines that could not be read; they do not stop the others."""


def read_transcripts(
    paths: Sequence[str | Path] | str | Path, *, format: SourceFormat | None = None
) -> ReadReport:
    """Read every transcript in files and directories.

    Args:
        paths: Files and directories (read recursively).
        format: Read every file as this format instead of telling formats apart by
            extension and content.

    Returns:
        The transcripts and the failures (missing paths, malformed files, empty files).

    Raises:
        ConfigError: `format` is not a known format.

    Example:
        ```python
        report = read_transcripts(["~/.claude/projects/my-app"])
        ```
    """
    report = ReadReport()
    for item in iter_transcripts(paths, format=format):
        if isinstance(item, ReadFailure):
            report.failures.append(item)
        else:
            report.transcripts.append(item)
    return report


def iter_transcripts(
    paths: Sequence[str | Path] | str | Path, *, format: SourceFormat | None = None
) -> Iterator[Transcript | ReadFailure]:
    """Like `read_transcripts`, but yields each transcript or failure as it is read.

    A log of 10,000 samples never sits in memory at once.

    Raises:
        ConfigError: `format` is not a known format (raised before anything is read).
    """
    if format is not None and format not in get_args(SourceFormat):
        known = ", ".join(get_args(SourceFormat))
        raise ConfigError(f"unknown transcript format {format!r}: use one of {known}")
    return _iter(_as_list(paths), format)


def _as_list(paths: Sequence[str | Path] | str | Path) -> list[str | Path]:
    return [paths] if isinstance(paths, str | Path) else list(paths)


def _iter(
    paths: Iterable[str | Path], format: SourceFormat | None
) -> Iterator[Transcript | ReadFailure]:
    done: set[str] = set()
    for given in paths:
        source = str(given)
        try:
            yield from _iter_path(source, format, done)
        except OSError as ex:  # a name too long, a directory we may not list
            yield ReadFailure(file=source, message=f"cannot be read ({ex.strerror or ex})")


def _iter_path(
    source: str, format: SourceFormat | None, done: set[str]
) -> Iterator[Transcript | ReadFailure]:
    path = Path(os.path.expanduser(source))
    if path.is_dir():
        found = False
        for file in _walk(path, source):
            real = Path(os.path.expanduser(file))
            key = os.path.realpath(real)
            if key in done:
                found = True
                continue
            chosen = format or _sniff_in_directory(real)
            if chosen is None:
                continue
            found = True
            done.add(key)
            yield from _read_file(file, chosen)
        if not found:
            yield ReadFailure(
                file=source,
                message="no transcripts in this directory (looked for .json, .jsonl "
                "and .eval files in OpenAI, Claude Code or Inspect format)",
            )
    elif path.exists() or path.is_symlink():
        key = os.path.realpath(path)
        if key not in done:
            done.add(key)
            yield from _read_file(source, format or _format_of_named(path))
    else:
        yield ReadFailure(file=source, message="no such file or directory")


def _walk(root: Path, source: str) -> Iterator[str]:
    """Transcript-looking files under a directory, sorted, keeping the path as given."""
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        relative = os.path.relpath(directory, root)
        prefix = source if relative == "." else os.path.join(source, relative)
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(_EXTENSIONS):
                yield os.path.join(prefix, name)


def _read_file(source: str, format: SourceFormat) -> Iterator[Transcript | ReadFailure]:
    reader: Callable[[str], Iterator[Any]] = _READERS[format]
    try:
        for item in reader(os.path.expanduser(source) if source.startswith("~") else source):
            yield _failure(item, source) if isinstance(item, TranscriptError) else item
    except TranscriptError as ex:
        yield _failure(ex, source)
    except OSError as ex:
        yield ReadFailure(file=source, message=f"cannot be read ({ex.strerror or ex})")
    except Exception as ex:  # a reader bug must not end the run; it is reported, not hidden
        yield ReadFailure(
            file=source,
            message=f"could not be read ({type(ex).__name__}: {str(ex)[:200]}); this is a "
            "bug in tripwire's transcript reader, please report it with the file",
        )


def _failure(error: TranscriptError, source: str) -> ReadFailure:
    text = str(error)
    match = _LOCATION.match(text)
    if match and match["file"] in (source, os.path.expanduser(source)):
        return ReadFailure(file=source, line=int(match["line"]), message=match["message"])
    for prefix in (f"{source}: ", f"{os.path.expanduser(source)}: "):
        if text.startswith(prefix):
            return ReadFailure(file=source, message=text[len(prefix) :])
    return ReadFailure(file=source, message=text)


_READERS: dict[SourceFormat, Callable[[str], Iterator[Any]]] = {
    "openai": transcripts_from_openai,
    "claude-code": read_claude_code,
    "inspect": read_inspect_log,
}


def sniff_format(path: str | Path) -> SourceFormat | None:
    """Which format a file is in, from its extension and first bytes.

    None when it does not look like a transcript (or cannot be opened).
    """
    file = Path(path)
    if file.suffix.lower() == ".eval":
        return "inspect"
    try:
        with file.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError:
        return None
    return _sniff_head(head)


def _sniff_head(head: bytes) -> SourceFormat | None:
    if _INSPECT_JSON.match(head):
        return "inspect"
    for line in head.splitlines()[:20]:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            break  # a document spread over lines, or a line longer than the head
        if not isinstance(value, dict):
            break
        if _is_claude_event(value):
            return "claude-code"
        if _OPENAI_KEY.search(line) or _is_openai_item(value):
            return "openai"
        # A line neither names (a Claude Code snapshot, a log header): look at the next.
    if _CLAUDE_KEY.search(head):
        return "claude-code"
    if _OPENAI_KEY.search(head):
        return "openai"
    return None


def _is_claude_event(value: dict[str, Any]) -> bool:
    event_type = value.get("type")
    if not isinstance(event_type, str) or event_type not in _CLAUDE_EVENTS:
        return False
    if event_type in ("file-history-snapshot", "queue-operation", "progress"):
        return True  # events only Claude Code writes
    return any(key in value for key in _CLAUDE_KEYS) or isinstance(value.get("message"), dict)


def _is_openai_item(value: dict[str, Any]) -> bool:
    """A Responses API item or a Codex rollout line."""
    item_type = value.get("type")
    return isinstance(item_type, str) and (
        item_type in _OPENAI_ITEMS or item_type.endswith(("_call", "_call_output"))
    )


def _sniff_in_directory(file: Path) -> SourceFormat | None:
    """A file found in a directory: its format, or None to skip it.

    Empty files are read (and reported as empty): a transcript still being written looks
    like one.
    """
    try:
        if file.stat().st_size == 0:
            return "openai"
    except OSError:
        return "openai"  # the reader reports why it cannot be opened
    return sniff_format(file)


def _format_of_named(file: Path) -> SourceFormat:
    """The format to read a file named on its own with (it is always read).

    When its bytes do not say which format it is, the OpenAI reader says what is wrong.
    """
    return sniff_format(file) or "openai"
