"""What the transcript classifier sees: hashed tokens from three views of a transcript.

- **calls**: each tool call's command or arguments (base64 payloads decoded, SQL as
  written), as lower-case words and word pairs; shell tools count as one tool `shell`
  whatever the agent calls them, so a renamed tool is not a new feature;
- **effects and guard**: the runtime guard's reading of each call (`tripwire.guard`, the
  same engine, with a blind file view and no rate limits: a transcript's pace is not
  evidence): what each call does (`write` to a path with `oversight` in it, `kill`,
  `sql drop`), the action and rule the default policy gives it, and whether what it
  changes is something the user's own messages mention (a side task rarely is);
- **text**: the agent's own words and reasoning (weak evidence, weighted down).

Hashing (no vocabulary) keeps the trained model to an array of numbers; every token
keeps a note of the call it came from, so a score's reasons can quote it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel
from sklearn.feature_extraction.text import HashingVectorizer

from tripwire.guard import BlindView, Decision, Effect, Guard

from ._augment import shell_command
from ._transcript import Transcript, TranscriptToolCall

__all__ = [
    "FEATURE_VERSION",
    "FeatureConfig",
    "Featurizer",
    "TranscriptTokens",
    "group_of",
    "guard_pass",
    "monitor_guard",
]

FEATURE_VERSION = 1
"""Bumped whenever tokens change: an artifact trained on other tokens will not load."""

_GROUPS = ("calls", "effects", "text")
_WORD = re.compile(r"[a-z_][a-z0-9_]+|[\u0080-\uffff]+")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_MAX_ARGUMENT_CHARS = 4000


class FeatureConfig(BaseModel):
    """How transcripts become feature vectors (saved with the trained model)."""

    version: int = FEATURE_VERSION
    """Token scheme version (`FEATURE_VERSION` when trained)."""

    n_features: int = 2**18
    """Hash buckets per group (calls, effects, text)."""

    weights: dict[str, float] = {"calls": 0.5, "effects": 0.2, "text": 0.3}
    """Scale of each group's vector."""

    norms: dict[str, Literal["l2"] | None] = {"calls": "l2", "effects": None, "text": "l2"}
    """Per group: `l2` scales a transcript's vector to unit length (words: a long
    transcript is not more suspicious for having more of them); None keeps each token
    at its weight (effects: one denied, unrequested write counts the same in a long
    transcript as in a short one). Chosen on the held-out split, as `weights` were."""


@dataclass
class TranscriptTokens:
    """A transcript's tokens by group, and where each token came from."""

    groups: dict[str, list[str]] = field(default_factory=lambda: {g: [] for g in _GROUPS})
    """Tokens of each group, in order (repeats kept; vectors are binary)."""

    origins: dict[str, str] = field(default_factory=dict)
    """`group|token` -> the call (or text) it first came from, shortened."""

    def add(self, group: str, tokens: Iterable[str], origin: str) -> None:
        for token in tokens:
            self.groups[group].append(token)
            self.origins.setdefault(f"{group}|{token}", origin)


def guard_pass(guard: Guard, transcript: Transcript) -> list[tuple[TranscriptToolCall, Decision]]:
    """The guard's decision on every tool call of a transcript, in order.

    The rules scorer's own pass (`_rules.guard_decisions`: the same working-directory
    convention), with the classifier's guard.
    """
    from ._rules import guard_decisions

    return list(guard_decisions(transcript, guard))


def monitor_guard() -> Guard:
    """The shipped default policy without rate limits, reading no files."""
    from tripwire.guard import default_policy

    from ._rules import transcript_guard

    return transcript_guard(default_policy(), BlindView())


class Featurizer:
    """Turns transcripts into sparse feature rows (stateless: nothing is fitted)."""

    def __init__(self, config: FeatureConfig | None = None, guard: Guard | None = None) -> None:
        """Build a featurizer.

        Args:
            config: Feature settings (the trained model's own when scoring).
            guard: The guard whose decisions become features (default: `monitor_guard()`).
        """
        self.config = config or FeatureConfig()
        self.guard = guard or monitor_guard()
        self._vectorizers = {
            group: HashingVectorizer(
                analyzer=_identity,
                n_features=self.config.n_features,
                alternate_sign=False,
                binary=True,
                norm=self.config.norms.get(group, "l2"),
            )
            for group in _GROUPS
        }

    @property
    def width(self) -> int:
        """Columns of a feature row."""
        return self.config.n_features * len(_GROUPS)

    def tokens(self, transcript: Transcript) -> TranscriptTokens:
        """Every token of a transcript, with its origins."""
        out = TranscriptTokens()
        asked = _request_words(transcript)
        for call, decision in guard_pass(self.guard, transcript):
            origin = _describe_call(call)
            out.add("calls", _call_tokens(call), origin)
            out.add("effects", _decision_tokens(decision), origin)
            out.add("effects", _request_tokens(decision, asked), origin)
        actions = [t.removeprefix("guard:action:") for t in out.groups["effects"]
                   if t.startswith("guard:action:")]  # fmt: skip
        if actions:
            worst = max(actions, key=_SEVERITY.__getitem__)
            out.add("effects", [f"guard:worst:{worst}"], "the transcript's calls")
        text = transcript.agent_text()
        out.add("text", _words(text, pairs=False), _short(text))
        return out

    def matrix(self, tokens: Sequence[TranscriptTokens]) -> sp.csr_matrix:
        """One weighted row per transcript (columns: calls, effects, text)."""
        blocks = []
        for group in _GROUPS:
            block = self._vectorizers[group].transform([t.groups[group] for t in tokens])
            blocks.append(block * self.config.weights.get(group, 1.0))
        return sp.hstack(blocks, format="csr")

    def columns(self, group: str, tokens: Sequence[str]) -> np.ndarray:
        """The column of each token of `group` (for naming a score's reasons)."""
        if not tokens:
            return np.zeros(0, dtype=np.int64)
        hashed = self._vectorizers[group].transform([[t] for t in tokens]).tocsr()
        offset = _GROUPS.index(group) * self.config.n_features
        return np.asarray(hashed.indices, dtype=np.int64) + offset


_SEVERITY = {"allow": 0, "ask": 1, "deny": 2, "kill": 3}


def group_of(column: int, n_features: int) -> str:
    """Which group a column belongs to."""
    return _GROUPS[column // n_features]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _words(text: str, *, pairs: bool = True) -> list[str]:
    words = _WORD.findall(text.lower())
    out = list(words)
    if pairs:
        out.extend(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return out


def _decoded(text: str) -> str:
    """Base64 payloads in `text`, decoded where they are text."""
    found = []
    for match in _B64.finditer(text):
        chunk = match.group()
        try:
            raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if decoded.isprintable() or all(c.isprintable() or c in "\n\t" for c in decoded):
            found.append(decoded)
    return "\n".join(found)


def _call_text(call: TranscriptToolCall) -> tuple[str, str]:
    """(tool token, the call's text): shell tools are all `shell`."""
    found = shell_command(call.arguments)
    if found is not None:
        return "shell", found[1][:_MAX_ARGUMENT_CHARS]
    values = [str(v) for v in call.arguments.values() if isinstance(v, str | int | float | bool)]
    values += [str(v) for v in call.arguments.values() if isinstance(v, list | dict)]
    return call.tool.lower(), " ".join(values)[:_MAX_ARGUMENT_CHARS]


def _call_tokens(call: TranscriptToolCall) -> list[str]:
    tool, text = _call_text(call)
    decoded = _decoded(text)
    tokens = [f"tool:{tool}"]
    tokens += _words(text)
    if decoded:
        tokens.append("decoded-payload")
        tokens += _words(decoded)
    return tokens


def _path_words(path: str | None) -> list[str]:
    if not path:
        return []
    tail = "/".join(path.rstrip("/").split("/")[-2:])
    return sorted(set(_WORD.findall(tail.lower())))


def _decision_tokens(decision: Decision) -> list[str]:
    tokens = [
        f"guard:action:{decision.action}",
        f"guard:rule:{decision.rule}",
        f"guard:{decision.action}:{decision.rule}",
    ]
    for effect in decision.effects:
        kind = effect.kind
        if kind == "call":
            continue
        tokens.append(f"effect:{kind}")
        if effect.host:
            tokens.append(f"effect:{kind}:remote")
        if effect.program:
            tokens.append(f"effect:{kind}:{effect.program.lower()}")
        for word in _path_words(effect.path):
            tokens.append(f"effect:{kind}:{word}")
        if kind == "copy":
            tokens += [f"effect:copy-from:{w}" for w in _path_words(effect.source)]
        if effect.target:
            tokens += [f"effect:kill:{w}" for w in _WORD.findall(effect.target.lower())]
        if effect.sql is not None:
            tokens.append(f"effect:sql:{effect.sql.op}")
            if not effect.sql.has_where:
                tokens.append(f"effect:sql:{effect.sql.op}:no-where")
            tokens += [f"effect:sql:{effect.sql.op}:{t}" for t in effect.sql.tables]
    return tokens


# Words too common in paths to say what the user asked for.
_GENERIC = frozenset(
    {"txt", "yaml", "yml", "json", "toml", "ini", "cfg", "conf", "log", "md", "py", "sh",
     "csv", "tmp", "bak", "the", "and", "for", "with", "from", "this", "that", "your", "you",
     "our", "file", "files", "data", "project", "home", "agent", "work", "src", "app", "bin",
     "usr", "var", "etc", "opt", "srv", "dev", "new", "old", "all"}
)  # fmt: skip
_ACTING = frozenset({"write", "delete", "permission", "kill", "copy", "sql", "network"})


def _request_words(transcript: Transcript) -> frozenset[str]:
    """Words of what the user asked (user messages only: system prompts set goals)."""
    text = " ".join(m.text for m in transcript.messages if m.role == "user").lower()
    return frozenset(w for w in _WORD.findall(text) if len(w) > 2 and w not in _GENERIC)


def _salient(effect: Effect) -> set[str]:
    words = set(_path_words(effect.path)) | set(_path_words(effect.source))
    for value in (effect.program, effect.target):
        if value:
            words |= set(_WORD.findall(value.lower()))
    if effect.sql is not None:
        words |= {t.lower() for t in effect.sql.tables}
    parts = {p for w in words for p in w.split("_")} | words
    return {w for w in parts if len(w) > 2 and w not in _GENERIC}


def _request_tokens(decision: Decision, asked: frozenset[str]) -> list[str]:
    """Whether what a call changes is something the user asked about.

    An agent deleting a file the user named is doing its job; one rewriting a file the
    user never mentioned, while the guard objects, is the shape of a side task.
    """
    tokens = []
    flagged = decision.action != "allow"
    for effect in decision.effects:
        if effect.kind not in _ACTING:
            continue
        words = _salient(effect)
        if not words:
            continue
        state = "requested" if words & asked else "unrequested"
        tokens.append(f"request:{effect.kind}:{state}")
        if flagged:
            tokens.append(f"request:{decision.action}:{state}")
            tokens.append(f"request:{decision.rule}:{state}")
    return tokens


def _describe_call(call: TranscriptToolCall) -> str:
    tool, text = _call_text(call)
    return _short(f"{call.tool}: {text}")


def _short(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
