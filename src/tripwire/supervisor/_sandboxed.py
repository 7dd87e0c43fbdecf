"""The guard of one sample in the `bwrap` Inspect sandbox (`BwrapConfig(guard=...)`).

The pieces of `tripwire guard run`, fitted to how Inspect runs an agent: a fresh `bwrap`
per command rather than one sandbox for the whole run.

- The shell shim is mounted over bash and dash in each of the agent's commands and asks
  a `ShellGate` over a socket in the sample's host tree; of that tree only the socket's
  directory is mounted, read-only.
- Decoys are planted outside the sample's files and bound in at their paths for the
  agent's commands only, over empty files kept in their place; inotify sees any open.
- Protected files are mounted read-only, hidden ones covered; protected, watched and
  hidden files are hashed after each of the agent's commands. That is enough here, with
  no periodic check as in `guard run`: when an agent command has returned, its `bwrap`
  and every process it started are gone, so nothing of the agent's can change a file
  until its next command.
- Incidents go to the sample's transcript and store; a kill ends the sample.

Only the agent is guarded. Commands as `root` or `service`, and the harness's own file
reads and writes, are the harness (setup, detectors, scorers): no shim, no decoys (a
detector that greps the home would trip them), no read-only mounts.

The integrity baseline is taken before an agent command whenever the harness has
changed anything since the last one (the first agent command always takes it, when the
harness has written the sample's files) and no other agent command is running. Between
agent commands no process of the agent's exists, so every change made then is the
harness's and is absorbed; every change seen after an agent command is charged to it.
A harness command that changes a watched file while an agent command runs is charged to
the agent: a harness should not change watched files while the agent works.
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import shlex
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import anyio
from inspect_ai.log import transcript
from inspect_ai.log._samples import sample_active
from inspect_ai.util import ExecResult, LimitExceededError, store

from tripwire._errors import ConfigError, SandboxError
from tripwire.guard import (
    Guard,
    Policy,
    channel_from_spec,
    default_policy,
    load_policy,
    sandbox_view,
)
from tripwire.guard._confirm import ConfirmChannel
from tripwire.guard._glob import PathSet
from tripwire.sandbox._config import BwrapConfig
from tripwire.sandbox._tree import GuardMounts, SampleTree

from ._decoys import PlantedDecoy, guarded_policy, plant_decoys
from ._gate import ShellGate
from ._honeytokens import DecoyWatch
from ._incidents import IncidentRecorder
from ._integrity import IntegrityWatch, scan_matches
from ._layout import REAL_SHELL_DIR, SOCKET_DIR, real_shells, shim_binds
from ._models import Incident
from ._shim import shim_binary, stage_shim
from ._shim_server import ShellRequest, ShimServer, Verdict

__all__ = [
    "COUNTS_KEY",
    "INCIDENTS_KEY",
    "GuardStopped",
    "SandboxSupervision",
    "check_guard_config",
    "guard_policy",
]

logger = logging.getLogger(__name__)

INCIDENTS_KEY = "tripwire_incidents"
"""Sample store key: the guard's incidents, a list of `Incident` dicts in order."""

COUNTS_KEY = "tripwire_guard_counts"
"""Sample store key: the shells the guard `allowed`, `denied` and `asked` about."""

INFO_SOURCE = "tripwire guard"
"""Source of the guard's info events in the sample's transcript."""

# Where bwrap cannot create a decoy's mount point: the host's system (read-only binds)
# and tripwire's own mounts.
_NO_DECOYS = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/dev",
    SOCKET_DIR, "/opt/tripwire",
)  # fmt: skip


def guard_policy(spec: str) -> Policy:
    """The policy `BwrapConfig.guard` names: `"default"` (shipped) or a policy file.

    Raises:
        PolicyError: The file is missing or invalid; one line naming the file and line.
    """
    return default_policy() if spec == "default" else load_policy(spec)


def check_guard_config(config: BwrapConfig) -> None:
    """Check a guarded sandbox's settings before any sample starts (at `task_init`).

    Raises:
        PolicyError: The policy file is missing or invalid.
        ConfigError: `guard_confirm` names no channel.
        SandboxError: The shell shim cannot be built (no C compiler).
    """
    if config.guard is None:
        return
    guard_policy(config.guard)
    channel_from_spec(config.guard_confirm)
    shim_binary()


class GuardStopped(LimitExceededError):
    """The guard stopped the sample.

    Raised by the agent command during which it happened and by every later one. A
    `custom` limit: in an eval the sample ends and is scored as at any other limit, and
    its log shows `limit: custom` with this message.

    Args:
        why: What stopped it (`kind: detail` of the incident).
    """

    def __init__(self, why: str) -> None:
        super().__init__(
            "custom", value=1, limit=1, message=f"tripwire guard stopped the sample: {why}"
        )
        self.why = why


class SandboxSupervision(IncidentRecorder):
    """The guard of one sample: answers its shims, watches its decoys and files.

    Made by `await SandboxSupervision.start(tree)`. The sandbox provider runs each of the
    agent's commands through `agent_command`, calls `harness_changed` after each of the
    harness's own, and `close`s it at the sample's cleanup.

    Args:
        tree: The sample's host tree; `start` sets its `guard` mounts.
        policy: The guard policy; its `run:` section says what is planted and watched.
        confirm: Who answers `ask` decisions.
    """

    def __init__(self, tree: SampleTree, policy: Policy, confirm: ConfirmChannel) -> None:
        self.tree = tree
        self.policy = policy
        self.settings = policy.run
        self.confirm = confirm
        self.incidents: list[Incident] = []
        """Every incident of the sample, in order."""
        self.stopped: str | None = None
        """What stopped the sample (None while it may run)."""
        self.decoys: list[PlantedDecoy] = []
        """The planted decoys."""
        self.integrity: IntegrityWatch | None = None
        """The integrity watch (None until the first agent command)."""
        self.gate: ShellGate | None = None
        """The shim's gate: guard, `ask` channel, decision counts."""
        self._started = time.monotonic()
        self._watched = PathSet(
            policy.expand([*self.settings.protect, *self.settings.watch, *self.settings.hide])
        )
        self._stop = anyio.Event()
        self._enacted = False
        self._running: list[str] = []  # the agent's commands running now
        self._baseline_due = True
        self._baseline_lock = anyio.Lock()
        self._unlogged: list[Incident] = []
        self._decisions: list[dict[str, Any]] = []
        self._server: ShimServer | None = None
        self._decoy_watch: DecoyWatch | None = None

    # -- setup and teardown ------------------------------------------------------------

    @classmethod
    async def start(cls, tree: SampleTree) -> SandboxSupervision:
        """Plant the decoys and start the shim's server and the decoy watch.

        Raises:
            PolicyError: The policy file is missing or invalid.
            ConfigError: A decoy cannot be placed, or `guard_confirm` is unknown.
            SandboxError: The shim cannot be built, or the event loop is not asyncio's.
        """
        config = tree.config
        if config.guard is None:
            raise ValueError("the sandbox's config sets no guard")
        supervision = cls(tree, guard_policy(config.guard), channel_from_spec(config.guard_confirm))
        try:
            await supervision._start()
        except BaseException:
            await supervision.close()
            raise
        return supervision

    async def _start(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError as ex:
            raise SandboxError(
                "the guarded bwrap sandbox answers the shell shim and watches decoys on an "
                "asyncio event loop: unset INSPECT_ASYNC_BACKEND=trio"
            ) from ex
        tree = self.tree
        # The shim is built in the cache under our home (root's is mode 0700), which the
        # sample's own host uid cannot reach: each sample binds a copy from its tree.
        shim = stage_shim(tree.root)
        socket_dir = tree.root / "guard"
        socket_dir.mkdir()
        socket_dir.chmod(0o755)
        self.decoys = self._plant()
        binds = shim_binds(shim, socket_dir)
        for decoy in self.decoys:
            binds += ["--bind", str(decoy.host), decoy.inside]
        tree.guard = GuardMounts(binds=tuple(binds), shell=_start_shell())
        guarded = guarded_policy(self.policy, self.decoys)
        view = sandbox_view({**tree.mounts, **{d.inside: d.host for d in self.decoys}})
        self.gate = ShellGate(
            Guard(guarded, view=view),
            home=tree.config.workdir,
            session=tree.root.name,
            confirm=self.confirm,
            audit=self._audit,
        )
        self._server = ShimServer(self._decide, self._finished, self.gate.unreadable)
        await self._server.start(socket_dir / "guard.sock")
        self._decoy_watch = DecoyWatch(self.decoys, self._decoy_touched)
        self._decoy_watch.start()

    def _plant(self) -> list[PlantedDecoy]:
        tree = self.tree
        owner = (tree.host_uid, tree.host_uid) if tree.host_uid is not None else None
        planted = plant_decoys(
            self.settings.decoys, tree.root / "decoys", home=tree.config.workdir, owner=owner
        )
        for decoy in planted:
            inside = decoy.inside
            system = next(
                (d for d in _NO_DECOYS if inside == d or inside.startswith(d + "/")), None
            )
            problem = None
            if system is not None:
                problem = f"it lies under {system}, which the sandbox mounts read-only"
            elif inside in tree.mounts:
                problem = "it is one of the sandbox's writable directories"
            if problem is not None:
                raise ConfigError(
                    f"decoy {inside} cannot be planted: {problem}; put decoys under ~/ or "
                    "in a directory of their own (e.g. /opt/secrets)"
                )
            mapped = tree.host_path(inside)
            if mapped is not None:
                # The decoy is mounted over this empty file in the agent's commands; made
                # now, so the harness and the integrity baseline see it from the start.
                host, host_root = mapped
                tree.make_parents(host, host_root)
                tree.write(host, b"")
        return planted

    async def close(self) -> None:
        """Stop the shim's server and the decoy watch."""
        if self._decoy_watch is not None:
            self._decoy_watch.close()
        if self._server is not None:
            await self._server.close()
        if self._unlogged:
            logger.warning(
                "tripwire guard: %d incident(s) after the sample's last command are not in "
                "its log: %s",
                len(self._unlogged),
                "; ".join(i.detail for i in self._unlogged),
            )

    # -- the agent's commands ----------------------------------------------------------

    async def agent_command(
        self, command: list[str], run: Callable[[], Awaitable[ExecResult[str]]]
    ) -> ExecResult[str]:
        """Run one of the agent's commands (`run`) under the guard.

        Args:
            command: The command, as the caller gave it (for incidents).
            run: Runs it in the sandbox, with the guard's mounts.

        Raises:
            GuardStopped: The guard stopped the sample, during this command or before.
        """
        if self.stopped is not None:
            self._log()
            raise GuardStopped(self.stopped)
        text = shlex.join(command)
        async with self._baseline_lock:
            if self._baseline_due and not self._running:
                await self._take_baseline()
            self._running.append(text)
        try:
            result = await self._until_stopped(run)
        finally:
            try:
                with anyio.CancelScope(shield=True):
                    await self._after(text)
            finally:
                self._running.remove(text)
                self._log()
        if self.stopped is not None:
            raise GuardStopped(self.stopped)
        assert result is not None  # only a stop cuts a command short
        return result

    def harness_changed(self) -> None:
        """The harness ran a command or wrote a file: what changed is not the agent's."""
        self._baseline_due = True

    async def _until_stopped(
        self, run: Callable[[], Awaitable[ExecResult[str]]]
    ) -> ExecResult[str] | None:
        """The command's result, or None when the guard stopped the sample meanwhile."""
        result: ExecResult[str] | None = None
        failure: Exception | None = None
        async with anyio.create_task_group() as group:

            async def command() -> None:
                nonlocal result, failure
                try:
                    result = await run()
                except Exception as ex:  # raised below as itself, not an exception group
                    failure = ex
                group.cancel_scope.cancel()

            async def stop() -> None:
                # Cancelling the command kills its bwrap, and with it every process the
                # agent started.
                await self._stop.wait()
                group.cancel_scope.cancel()

            group.start_soon(command)
            group.start_soon(stop)
        if failure is not None:
            raise failure
        return result

    async def _take_baseline(self) -> None:
        """Absorb the harness's changes; find the protected and hidden files again."""
        tree = self.tree
        limit = self.settings.max_watched_files
        watch = self.integrity or IntegrityWatch(tree.workdir, self._watched, limit)
        first = self.integrity is None
        protect = PathSet(self.policy.expand(self.settings.protect))
        hide = PathSet(self.policy.expand(self.settings.hide))

        def scan() -> tuple[list[str], list[str]]:
            if first:
                watch.start()
            else:
                watch.check()
                watch.admit(watch.find())
            return (
                scan_matches(tree.workdir, protect, limit=limit)[0],
                scan_matches(tree.workdir, hide, limit=limit)[0],
            )

        protected, hidden = await anyio.to_thread.run_sync(scan)
        if first and watch.truncated:
            logger.warning(
                "tripwire guard: the sandbox's workdir has more than %d entries; files past "
                "them are not watched (raise run.max_watched_files)",
                limit,
            )
        self.integrity = watch
        if tree.guard is not None:
            tree.guard = replace(
                tree.guard,
                readonly=tuple(self._sandbox_path(p) for p in protected),
                hidden=tuple(self._sandbox_path(p) for p in hidden),
            )
        self._baseline_due = False

    async def _after(self, command: str) -> None:
        """Charge what the command did: decoys it touched, watched files it changed."""
        if self._decoy_watch is not None:
            self._decoy_watch.poll()
        watch = self.integrity
        if watch is None:
            return
        changes = watch.check()
        found = await anyio.to_thread.run_sync(watch.find)
        changes += watch.admit(found)
        self._report_changes(changes, command)

    def _sandbox_path(self, host: str) -> str:
        relative = os.path.relpath(host, self.tree.workdir)
        return posixpath.normpath(posixpath.join(self.tree.config.workdir, relative))

    # -- the shim's questions ----------------------------------------------------------

    async def _decide(self, request: ShellRequest) -> Verdict:
        if self.stopped is not None or self.gate is None:
            return Verdict("kill", "the sample is being stopped")
        answer = await self.gate.decide(request)
        if answer.allowed:
            return Verdict("allow", line_by_line=answer.line_by_line)
        return self._refuse(answer, request.command)

    async def _finished(self, request: ShellRequest, status: int | None) -> None:
        # Checked while the shim waits, so a change is charged to this shell.
        if self.integrity is not None:
            self._report_changes(self.integrity.check(), request.command)

    def _audit(self, kind: str, data: dict[str, Any]) -> None:
        # The gate's decision records: refusals and asks go to the transcript; allowed
        # shells are only counted, and kills and decoys are incidents of their own.
        if (
            kind == "decision"
            and data.get("action") in ("deny", "ask")
            and data.get("rule") != "honeytoken"
        ):
            self._decisions.append(data)

    # -- incidents and the stop --------------------------------------------------------

    def _stopping(self) -> bool:
        return self.stopped is not None

    def _enact(self, incident: Incident) -> None:
        self._unlogged.append(incident)
        if incident.killed:
            self.stopped = f"{incident.kind}: {incident.detail}"
            self._stop.set()

    def _blame(self) -> str | None:
        return " ; ".join(self._running) or None

    def _log(self) -> None:
        """Put what happened since the last call in the sample's log; enact a stop.

        Runs in the agent command's own context, where `transcript()`, `store()` and the
        active sample are the sample's (the shim's and inotify's callbacks run in the
        context the sample's sandbox was made in).
        """
        active = sample_active()
        if active is None:  # not in an eval: callers read `incidents`
            self._unlogged.clear()
            self._decisions.clear()
            return
        decisions, self._decisions = self._decisions, []
        incidents, self._unlogged = self._unlogged, []
        for record in decisions:
            transcript().info(_decision_info(record), source=INFO_SOURCE)
        for incident in incidents:
            transcript().info(_incident_info(incident), source=INFO_SOURCE)
        sample_store = store()
        if incidents:
            logged: list[dict[str, Any]] = sample_store.get(INCIDENTS_KEY, [])
            dumped = [i.model_dump(mode="json", exclude_none=True) for i in incidents]
            sample_store.set(INCIDENTS_KEY, [*logged, *dumped])
        if self.gate is not None:
            sample_store.set(COUNTS_KEY, dict(self.gate.counts))
        if self.stopped is not None and not self._enacted and active.tg is not None:
            self._enacted = True
            # Ends the sample at once, whatever catches the error the command raises (a
            # tool that turns errors into text, a parallel tool call): Inspect's own way
            # for a limit reached inside a sandbox call (its sandbox service does this).
            active.limit_exceeded(GuardStopped(self.stopped))


def _start_shell() -> str:
    """A real shell for each command's start-up line (bash and dash are the shim)."""
    names = set(real_shells().values())
    for name in ("dash", "bash"):
        if name in names:
            return f"{REAL_SHELL_DIR}/{name}"
    return "/bin/sh"  # neither is installed, so nothing is shimmed


def _incident_info(incident: Incident) -> dict[str, Any]:
    return {"tripwire_guard": "incident", **incident.model_dump(mode="json", exclude_none=True)}


def _decision_info(record: dict[str, Any]) -> dict[str, Any]:
    arguments = record.get("arguments")
    command = arguments.get("command") if isinstance(arguments, dict) else None
    approved = record.get("approved")
    info = {
        "tripwire_guard": "asked" if record.get("action") == "ask" else "refused",
        "action": record.get("action"),
        "rule": record.get("rule"),
        "reason": record.get("reason"),
        "command": command,
        "approved": approved,
        "answered_by": record.get("answered_by"),
    }
    return {key: value for key, value in info.items() if value is not None}
