"""The guard: a policy checked on every tool call before it runs.

`Guard.check(call)` reduces the call to effects (`_tools.call_effects`), resolves their
paths through a file view, and lets the policy's rules decide each effect (first match
wins); the call gets the most severe decision. It never raises and never allows by
accident: a call it cannot read gets the policy's `unparseable` decision (deny unless
the policy says otherwise), and an internal error is a deny naming the error.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import get_args

from tripwire._errors import UnparseableError

from ._call import GuardCall
from ._decision import SEVERITY, Decision
from ._effects import Effect, EffectKind
from ._glob import PathSet, has_glob, name_matches
from ._policy import Policy, RateLimit, Rule, load_policy, parse_policy
from ._tools import ToolKinds, call_effects, tool_words
from ._view import FileView, HostView

__all__ = ["DEFAULT_POLICY", "Guard", "default_policy"]

DEFAULT_POLICY = "default_policy.yaml"
"""The shipped default policy (a data file in `tripwire/guard/data/`)."""

_WITHIN_KINDS = frozenset({"delete", "permission"})
# Programs that reach the network without naming a host the way URLs do.
_NETWORK_PROGRAMS = frozenset(
    {"mail", "mailx", "sendmail", "mutt", "dig", "nslookup", "host", "openssl", "telnet",
     "ftp", "sftp", "ncat", "nc", "netcat", "socat", "curl", "wget", "ssh", "scp", "rsync"}
)  # fmt: skip


@dataclass
class _CompiledRule:
    rule: Rule
    paths: PathSet | None
    sources: PathSet | None
    via: list[re.Pattern[str]] | None = None


@dataclass
class _RateState:
    limit: RateLimit
    calls: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


class Guard:
    """Checks tool calls against a policy.

    Example:
        ```python
        guard = Guard.from_file("policy.yaml")
        decision = guard.check(GuardCall(tool="bash", arguments={"command": "rm -rf /"}))
        if decision.blocked:
            print(decision.rule, decision.reason)
        ```
    """

    def __init__(
        self,
        policy: Policy,
        *,
        view: FileView | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build a guard.

        Args:
            policy: A validated policy.
            view: How the agent's files are seen (default: this machine's files).
            clock: Seconds, for rate limits (tests pass a fake clock).
        """
        self.policy = policy
        self.view = view or HostView()
        self._clock = clock
        self._kinds = ToolKinds(policy.tools)
        self._rules = [
            _CompiledRule(
                rule,
                None if rule.paths is None else _patterns(policy, rule.paths),
                None if rule.sources is None else _patterns(policy, rule.sources),
                None if rule.via is None else [re.compile(v) for v in rule.via],
            )
            for rule in policy.rules
        ]
        # Rules by the effect kinds they can match, in policy order.
        self._by_kind: dict[str, list[_CompiledRule]] = {
            kind: [c for c in self._rules if c.rule.effects is None or kind in c.rule.effects]
            for kind in get_args(EffectKind)
        }
        self._honeytokens = PathSet(policy.honeytokens)
        self._rates = [_RateState(limit) for limit in policy.rate_limits]

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: object) -> Guard:
        """A guard for the policy file at `path` (PolicyError names the bad line)."""
        return cls(load_policy(path), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def default(cls, **kwargs: object) -> Guard:
        """A guard with the shipped default policy."""
        return cls(default_policy(), **kwargs)  # type: ignore[arg-type]

    def check(
        self, call: GuardCall, *, view: FileView | None = None, home: str | None = None
    ) -> Decision:
        """Decide one call. Never raises: an internal error is a deny naming it.

        Args:
            call: The tool call.
            view: The agent's files, if not the guard's own view (e.g. a sandbox's).
            home: The agent's home for `~`, if not the policy's.
        """
        try:
            return self._check(call, view or self.view, home or self.policy.home)
        except Exception as ex:  # fail closed: a guard bug must not let a call through
            return Decision(
                action="deny",
                rule="guard-error",
                reason=f"the guard failed on this call ({type(ex).__name__}: {ex}); "
                "refused because it could not be checked",
            )

    def _check(self, call: GuardCall, view: FileView, home: str | None) -> Decision:
        limited = self._rate_limit(call)
        if limited is not None:
            return limited
        try:
            effects = call_effects(call, self._kinds, home=home)
        except UnparseableError as ex:
            action = self.policy.unparseable
            return Decision(
                action=action,
                rule="unparseable",
                reason=f"the guard could not read this call: {ex}"
                + ("" if action == "allow" else "; rewrite it in a plainer form"),
                effects=[Effect(kind="call", tool=call.tool)],
            )
        effects = _with_network(_resolved(e, view) for e in effects)
        tripped = self._honeytoken(call, effects, view)
        if tripped is not None:
            return tripped
        # Per effect: its first matching rule, or the policy's default (rule None).
        # The call gets the most severe; the first effect wins a tie.
        kinds = frozenset(e.kind for e in effects)
        best: tuple[Rule | None, Effect] | None = None
        best_severity = -1
        for effect in effects:
            rule = self._decide(call, effect, view, kinds)
            severity = SEVERITY[rule.decision if rule is not None else self.policy.default]
            if severity > best_severity:
                best, best_severity = (rule, effect), severity
        assert best is not None  # the call effect is always there
        if best[0] is None:
            return Decision(
                action=self.policy.default,
                rule="default",
                reason="no rule matched",
                effects=effects,
            )
        rule, effect = best
        assert rule is not None
        reason = rule.reason or f"policy rule {rule.name!r}"
        if effect.via:
            reason = f"{reason} [{_describe(effect)}]"
        return Decision(
            action=rule.decision, rule=rule.name, reason=reason, effects=effects, matched=[effect]
        )

    def _decide(
        self, call: GuardCall, effect: Effect, view: FileView, kinds: frozenset[str]
    ) -> Rule | None:
        """The first rule matching `effect`, or None (the policy's default applies)."""
        for compiled in self._by_kind.get(effect.kind, ()):
            wanted = compiled.rule.with_effects
            if wanted is not None and kinds.isdisjoint(wanted):
                continue
            if self._matches(compiled, call, effect, view):
                return compiled.rule
        return None

    def _matches(
        self, compiled: _CompiledRule, call: GuardCall, effect: Effect, view: FileView
    ) -> bool:
        rule = compiled.rule  # its effect kinds were checked by `_by_kind`
        if rule.tools is not None and not any(name_matches(call.tool, g) for g in rule.tools):
            return False
        if rule.tool_words is not None and not _has_words(call.tool, rule.tool_words):
            return False
        if rule.remote is not None and (effect.host is not None) != rule.remote:
            return False
        if rule.hosts is not None and not (
            effect.host is not None and any(name_matches(effect.host, g) for g in rule.hosts)
        ):
            return False
        if rule.programs is not None and not (
            effect.program is not None
            and any(name_matches(effect.program, g) for g in rule.programs)
        ):
            return False
        if rule.targets is not None and not self._target_matches(effect, rule.targets, view):
            return False
        if compiled.via is not None and not any(p.search(effect.via) for p in compiled.via):
            return False
        if not _sql_matches(rule, effect, self.policy):
            return False
        if rule.unknown_path == "only":
            constrained = effect.source if compiled.sources is not None else effect.path
            if constrained is not None:
                return False
        if compiled.paths is not None:
            if effect.path is None:
                if rule.unknown_path == "no":
                    return False
            elif not _path_hits(effect.path, effect, compiled.paths, view, within=rule.within):
                return False
        if compiled.sources is not None:
            if effect.source is None:
                if rule.unknown_path == "no":
                    return False
            elif not _path_hits(
                effect.source, effect, compiled.sources, view, within=rule.within, inside=True
            ):
                return False
        return True

    def _target_matches(self, effect: Effect, globs: list[str], view: FileView) -> bool:
        if effect.target is None:
            return False
        names = [effect.target]
        if effect.target.isdigit() and isinstance(view, HostView):
            names.append(_process_command(effect.target))
        return any(name_matches(n, f"*{g}*" if "*" not in g else g) for n in names for g in globs)

    def _honeytoken(
        self, call: GuardCall, effects: list[Effect], view: FileView
    ) -> Decision | None:
        if not self._honeytokens.patterns and not self.policy.honeytoken_strings:
            return None
        for effect in effects:
            for path in (effect.path, effect.source):
                if path is not None and effect.host is None and self._honeytokens.may_match(path):
                    return Decision(
                        action=self.policy.honeytoken_decision,
                        rule="honeytoken",
                        reason=f"touched a honeytoken file [{_describe(effect)}]",
                        matched=[effect],
                        effects=effects,
                    )
        if self.policy.honeytoken_strings:
            text = json.dumps(call.arguments, ensure_ascii=False, default=str)
            for secret in self.policy.honeytoken_strings:
                if secret and secret in text:
                    return Decision(
                        action=self.policy.honeytoken_decision,
                        rule="honeytoken",
                        reason="used a honeytoken credential",
                        effects=effects,
                    )
        return None

    def _rate_limit(self, call: GuardCall) -> Decision | None:
        now = self._clock()
        session = call.session or ""
        for state in self._rates:
            limit = state.limit
            if not any(name_matches(call.tool, g) for g in limit.tools):
                continue
            window = state.calls[session]
            while window and now - window[0] >= limit.per_seconds:
                window.popleft()
            if len(window) >= limit.max_calls:
                return Decision(
                    action=limit.decision,
                    rule=f"rate-limit:{limit.name}",
                    reason=f"{limit.reason} (more than {limit.max_calls} calls in "
                    f"{limit.per_seconds:g} s)",
                )
            window.append(now)
        return None


def default_policy() -> Policy:
    """The shipped default policy, parsed (a copy of its own for each caller to change)."""
    return _parsed_default_policy().model_copy(deep=True)


@cache
def _parsed_default_policy() -> Policy:
    text = files("tripwire.guard").joinpath("data", DEFAULT_POLICY).read_text("utf-8")
    return parse_policy(text, source=f"tripwire/guard/data/{DEFAULT_POLICY}")


def _patterns(policy: Policy, items: list[str]) -> PathSet:
    return PathSet(policy.expand(items))


def _resolved(effect: Effect, view: FileView) -> Effect:
    """The effect with local paths' symlinks followed (the original kept in `via`)."""
    if effect.host is not None or (effect.path is None and effect.source is None):
        return effect
    update: dict[str, str] = {}
    for name in ("path", "source"):
        value = getattr(effect, name)
        if value is not None and not has_glob(value):
            resolved = view.resolve(value)
            if resolved != value:
                update[name] = resolved
                update["via"] = f"{effect.via} (-> {resolved})"[:400]
    return effect.model_copy(update=update) if update else effect


def _path_hits(
    path: str,
    effect: Effect,
    patterns: PathSet,
    view: FileView,
    *,
    within: bool,
    inside: bool = False,
) -> bool:
    """True if `path` (or, for directory operations, a file under it) matches.

    `inside`: look inside a directory whatever the effect's kind (a copy's source).
    """
    # A copy's source is local even when the copy goes to another host.
    local = inside or effect.host is None
    if not local or not has_glob(path):
        candidates = [path]
    else:
        expanded = view.expand(path)
        if expanded is None:  # cannot list: could the glob name a protected file?
            return patterns.may_match(path)
        candidates = expanded
    looks_inside = within and local and (inside or effect.kind in _WITHIN_KINDS)
    for candidate in candidates:
        if patterns.matches(candidate):
            return True
        if looks_inside and view.is_dir(candidate):
            children = view.children(candidate)
            if children is None:
                return True  # too big or unreadable to inspect: assume the worst
            if any(patterns.matches(child) for child in children):
                return True
    return False


def _sql_matches(rule: Rule, effect: Effect, policy: Policy) -> bool:
    if rule.databases is not None and not _database_matches(rule.databases, effect, policy):
        return False
    wants_sql = (
        rule.sql_ops is not None or rule.sql_where is not None or rule.sql_rows_over is not None
    )
    if not wants_sql:
        return True
    statement = effect.sql
    if statement is None:
        return False
    if rule.sql_ops is not None and statement.op not in rule.sql_ops:
        return False
    if rule.sql_where is not None and (
        statement.op not in ("update", "delete") or statement.has_where != rule.sql_where
    ):
        return False
    if rule.sql_rows_over is None:
        return True
    return statement.op == "insert" and (
        statement.rows is None or statement.rows > rule.sql_rows_over
    )


def _database_matches(wanted: list[str], effect: Effect, policy: Policy) -> bool:
    """The effect's database is of a wanted class (production/test/unknown) or glob."""
    if effect.database is None and effect.sql is None:
        return False  # not a database effect at all
    from ._sql import database_class

    klass = database_class(effect.database, policy.databases.production, policy.databases.test)
    return any(
        d == klass
        if d in ("production", "test", "unknown")
        else (effect.database is not None and name_matches(effect.database, d))
        for d in wanted
    )


def _with_network(effects: Iterable[Effect]) -> list[Effect]:
    """The effects, plus a `network` effect where one is implied but not named.

    Bash's `/dev/tcp/HOST/PORT` files, and mail, DNS and TLS clients, reach other hosts.
    """
    out = list(effects)
    extra: list[Effect] = []
    has_network = any(e.kind == "network" for e in out)
    for effect in out:
        path = effect.path or ""
        if path.startswith(("/dev/tcp/", "/dev/udp/")):
            host = path.split("/")[3] if path.count("/") >= 3 else "unknown"
            extra.append(Effect(kind="network", host=host or "unknown", via=effect.via))
        elif (
            effect.kind == "exec"
            and not has_network
            and (effect.program or "") in _NETWORK_PROGRAMS
        ):
            extra.append(Effect(kind="network", host="unknown", via=effect.via))
            has_network = True
    return out + extra


def _has_words(tool: str, groups: list[list[str]]) -> bool:
    words = tool_words(tool)
    return all(any(stem.lower() in w for w in words for stem in group) for group in groups)


def _describe(effect: Effect) -> str:
    where = f" on {effect.host}" if effect.host else ""
    return f"{effect.kind}{where}: {effect.via}"


def _process_command(pid: str) -> str:
    """A local process's command line, or '' (gone, or not ours to read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
