"""The supervisor: runs one agent command in a sandbox under a guard policy.

It lives outside the sandbox's pid and mount namespaces, so the agent can neither see
nor signal it, and holds everything the agent must not touch: the audit log and its key,
the run's state, the control socket. It answers the shell shim, watches protected files
and decoys, and stops the whole sandbox when a kill is due: the sandbox's pid 1 dies and
the kernel takes every process of its namespace with it, whatever signals they ignore.
If the supervisor itself dies, `bwrap --die-with-parent` ends the sandbox: the agent
never runs unguarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import resource
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inotify_simple import flags

from tripwire._errors import AuditError, ConfigError, SandboxError
from tripwire.audit import AuditLog, default_key_path
from tripwire.guard import Guard, Policy, sandbox_view
from tripwire.guard._confirm import AutoChannel, ConfirmChannel
from tripwire.guard._glob import PathSet
from tripwire.sandbox._command import rlimit_values
from tripwire.sandbox._quota import MemoryCgroup, memory_cgroup_root
from tripwire.sandbox._tree import make_parents, remove_tree, traversable_temp_dir

from ._decoys import PlantedDecoy, guarded_policy, plant_decoys
from ._gate import ShellGate
from ._honeytokens import DecoyWatch, InodeWatch
from ._incidents import IncidentRecorder
from ._integrity import FileChange, IntegrityWatch, scan_matches
from ._layout import REAL_SHELL_DIR, RunLayout, real_shells
from ._models import Incident, RunState, RunSummary
from ._runs import default_runs_dir, new_run_id, process_start_ticks, write_state
from ._shim import shim_binary, stage_shim
from ._shim_server import ShellRequest, ShimServer, Verdict

__all__ = ["Supervisor"]

logger = logging.getLogger(__name__)

_FLUSH_SECONDS = 0.25
_START_TIMEOUT = 30.0
_MAX_WRITE_WATCHES = 4096  # inotify watches are a per-user kernel resource (8192 here)


class Supervisor(IncidentRecorder):
    """Runs `command` in a supervised sandbox; `await run()` returns its summary.

    Args:
        command: The agent command and its arguments (run inside, found on its PATH).
        policy: The guard policy; its `run:` section shapes the sandbox.
        workdir: The agent's working directory (mounted read-write at the same path).
        runs_dir: Where the run's directory goes (default `default_runs_dir()`).
        run_id: The run's name (default: a fresh one).
        confirm: Who answers `ask` decisions (default: refuse them).
        env: Extra environment variables for the agent.
        timeout: Wall-clock seconds before the run is killed (None: no limit).
        on_incident: Called with each incident as it happens (e.g. to print it).
        egress: Hosts the agent may reach through the egress proxy (empty: no network).
        mounts: Host paths the agent needs besides the system (its own CLI, a Node
            install): `PATH` (read-only, same path inside) or `PATH:rw`.
    """

    def __init__(
        self,
        command: list[str],
        *,
        policy: Policy,
        workdir: Path,
        runs_dir: Path | None = None,
        run_id: str | None = None,
        confirm: ConfirmChannel | None = None,
        env: dict[str, str] | None = None,
        timeout: float | None = None,
        on_incident: Callable[[Incident], None] | None = None,
        egress: list[str] | None = None,
        mounts: list[str] | None = None,
    ) -> None:
        if not command:
            raise ConfigError("give the agent command after `--`, e.g. `-- python agent.py`")
        self.command = command
        self.policy = policy
        self.settings = policy.run
        self.workdir = _checked_workdir(workdir)
        self.runs_dir = (runs_dir or default_runs_dir()).resolve()
        self.run_id = run_id or new_run_id()
        self.run_dir = self.runs_dir / self.run_id
        self.mounts = _parse_mounts(mounts or [])
        self._check_outside_workdir()
        self.confirm = confirm or AutoChannel(approved=False)
        self.env = dict(env or {})
        self.timeout = timeout
        self.egress = list(egress or [])
        if self.egress:
            from ._proxy import EgressProxy

            EgressProxy(self.egress)  # validates the allowlist now, not after the start
        _find_command(self.command[0], self.workdir, list(self.mounts))
        for decoy in self.settings.decoys:
            if Path(decoy.path) == self.workdir or Path(decoy.path).is_relative_to(self.workdir):
                raise ConfigError(
                    f"decoy {decoy.path} lies inside the working directory; tripwire never "
                    "writes into your project: put decoys under ~/ or elsewhere"
                )
        if "bash" not in real_shells().values():
            raise ConfigError("tripwire guard run needs bash on this machine (/bin/bash)")
        self._on_incident = on_incident
        self.incidents: list[Incident] = []
        self._started = time.monotonic()
        self._proc: asyncio.subprocess.Process | None = None
        self._sandbox_pid: int | None = None
        self._killed_by: str | None = None
        self._kill_latency: float | None = None
        self._kill_done: asyncio.Event | None = None
        self._running: dict[int, str] = {}  # shim pid -> command, while its shell runs
        self._last_command: str | None = None
        self._log: AuditLog | None = None
        self._memory_cgroup: MemoryCgroup | None = None
        self._proxy: Any = None
        self._prepared = False
        self._failed: str | None = None
        self._scan_cut_reported = False
        self._write_watch: InodeWatch[str] | None = None

    # -- setup -------------------------------------------------------------------------

    def _check_outside_workdir(self) -> None:
        visible = [self.workdir, *(Path(m) for m in self.mounts)]
        for what, path in (
            ("the runs directory", self.runs_dir),
            ("the audit key", default_key_path().expanduser().resolve()),
        ):
            for seen in visible:
                if path == seen or path.is_relative_to(seen) or seen.is_relative_to(path):
                    raise ConfigError(
                        f"{what} ({path}) and {seen}, which the agent sees, overlap: the "
                        "agent could read or change it; choose another working directory "
                        "or mount, or move it (--runs-dir, or $TRIPWIRE_AUDIT_KEY for the key)"
                    )

    def _agent_owner(self) -> tuple[int, int] | None:
        """Host uid/gid the agent runs as when it must differ from ours (we are root)."""
        if os.geteuid() != 0:
            return None
        st = self.workdir.stat()
        # A root-owned workdir: the agent is host root mapped into a user namespace with
        # no capabilities; a user's workdir: the agent runs as that user.
        return None if st.st_uid == 0 else (st.st_uid, st.st_gid)

    def prepare(self) -> None:
        """Create the run's directory, decoys, watches and audit log (`run` calls it).

        Raises:
            ConfigError: The policy's run settings do not fit this working directory.
        """
        if self._prepared:
            return
        self._prepared = True
        self.runs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.run_dir.mkdir(mode=0o700)
        self.owner = self._agent_owner()
        if self.owner is None:
            host_dir = self.run_dir / "sandbox"
            host_dir.mkdir()
        else:
            # bwrap runs as the workdir's owner, who cannot pass our 0700 directories:
            # what it mounts lies in a directory it can traverse (not list).
            host_dir = Path(tempfile.mkdtemp(prefix="tripwire-run-", dir=traversable_temp_dir()))
            host_dir.chmod(0o711)
        # Sockets need short paths (107 bytes): a fresh directory in the temp dir. The
        # agent's part (shim, proxy) is mounted read-only; the control socket is not.
        self.sockets = Path(tempfile.mkdtemp(prefix="tripwire-", dir=_short_temp_dir()))
        agent_sockets = self.sockets / "agent"
        agent_sockets.mkdir()
        if self.owner is not None:
            for directory in (self.sockets, agent_sockets):
                directory.chmod(0o711)
        self.layout = RunLayout(
            workdir=str(self.workdir), host_dir=host_dir, socket_dir=agent_sockets
        )
        if self.layout.home == str(self.workdir) or self.workdir.is_relative_to("/home/agent"):
            self.layout.home = "/home/tripwire-agent"
        self.layout.shim = shim_binary() if self.owner is None else stage_shim(host_dir)
        self.layout.prepare(self.owner)
        self.layout.env.update(self.env)
        for path, writable in self.mounts.items():
            (self.layout.extra_rw if writable else self.layout.extra_ro)[path] = path
        limit = self.settings.max_watched_files
        protect, cut1 = scan_matches(
            self.workdir, PathSet(self.policy.expand(self.settings.protect)), limit=limit
        )
        hide, cut2 = scan_matches(
            self.workdir, PathSet(self.policy.expand(self.settings.hide)), limit=limit
        )
        # A link would mount whatever it points to (a host file) over itself: links are
        # left to the integrity watch, which sees them replaced.
        self.layout.protect = [p for p in protect if not os.path.islink(p)]
        self.layout.hide = [p for p in hide if not os.path.islink(p)]
        self.decoys: list[PlantedDecoy] = plant_decoys(
            self.settings.decoys,
            host_dir / "decoys",
            home=self.layout.home,
            owner=self.owner,
        )
        self.decoys = [self._settle(decoy) for decoy in self.decoys]
        watched = self.policy.expand(
            [*self.settings.protect, *self.settings.watch, *self.settings.hide]
        )
        self.integrity = IntegrityWatch(self.workdir, PathSet(watched), limit)
        self.integrity.start()
        guarded = guarded_policy(self.policy, self.decoys)
        self.guard = Guard(guarded, view=sandbox_view(self.layout.mounts()))
        self.gate = ShellGate(
            self.guard,
            home=self.layout.home,
            session=self.run_id,
            confirm=self.confirm,
            audit=self._audit,
        )
        self.decoy_secrets = [tell for decoy in self.decoys for tell in decoy.tells]
        """The planted credentials (the egress proxy looks for them in requests)."""
        self._log = AuditLog(self.run_dir / "audit.jsonl", key_file=default_key_path())
        self._audit(
            "run-start",
            {
                "run_id": self.run_id,
                "command": self.command,
                "workdir": str(self.workdir),
                "protected": protect,
                "hidden": hide,
                "watched": self.integrity.paths,
                "decoys": [d.inside for d in self.decoys],
                "egress": self.egress,
                "scan_truncated": cut1 or cut2 or self.integrity.truncated,
            },
        )
        self.state = RunState(
            run_id=self.run_id,
            command=self.command,
            workdir=str(self.workdir),
            supervisor_pid=os.getpid(),
            started=time.time(),
            audit_log=str(self.run_dir / "audit.jsonl"),
            control_socket=str(self.sockets / "control.sock"),
        )
        write_state(self.run_dir, self.state)

    # -- the run -----------------------------------------------------------------------

    def _settle(self, decoy: PlantedDecoy) -> PlantedDecoy:
        """Put a decoy in its place: a plain file in the home, else a bind mount.

        A bind mount shows in /proc/self/mountinfo, which tells a decoy from a real file
        without touching it; the home is the run's own, so decoys there are plain files.
        """
        home = self.layout.home.rstrip("/") + "/"
        if not decoy.inside.startswith(home):
            self.layout.decoys[decoy.inside] = decoy.host
            return decoy
        target = self.layout.home_dir / decoy.inside[len(home) :]
        make_parents(target, self.layout.home_dir, self.owner, mode=0o700)
        os.replace(decoy.host, target)
        return dataclasses.replace(decoy, host=target)

    @staticmethod
    def _raise_open_file_limit() -> None:
        """Up to the hard limit: every running shell holds one connection to us."""
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    async def run(self) -> RunSummary:
        """Run the agent to its end (or until killed) and return the summary.

        Raises:
            ConfigError: Bad settings (nothing was started).
            SandboxError: The sandbox could not be started.
        """
        self.prepare()
        self._raise_open_file_limit()
        self._kill_done = asyncio.Event()
        shims = ShimServer(self._decide, self._finished, self.gate.unreadable)
        control: asyncio.AbstractServer | None = None
        decoy_watch = DecoyWatch(self.decoys, self._decoy_touched)
        # Writes to watched files, so one undone before the next check is still seen.
        self._write_watch = InodeWatch(
            {p: p for p in self.integrity.regular_files()[:_MAX_WRITE_WATCHES]},
            flags.MODIFY,
            lambda path, _what: self.integrity.written.add(path),
        )
        tasks: list[asyncio.Task[Any]] = []
        exit_code: int | None = None
        try:
            await shims.start(self.layout.socket_dir / "guard.sock")
            control_path = self.sockets / "control.sock"
            control = await asyncio.start_unix_server(self._control, path=str(control_path))
            os.chmod(control_path, 0o600)
            if self.egress:
                await self._start_egress()
            decoy_watch.start()
            self._write_watch.start()
            await self._spawn()
            self.state.status = "running"
            write_state(self.run_dir, self.state)
            tasks.append(asyncio.create_task(self._periodic()))
            if self.timeout is not None:
                tasks.append(asyncio.create_task(self._deadline(self.timeout)))
            assert self._proc is not None
            exit_code = await self._proc.wait()
            if self._killed_by is not None:
                await self._kill_done.wait()
        except BaseException as ex:
            await self._stop_sandbox()
            started = self._sandbox_pid is not None
            if started and not isinstance(ex, asyncio.CancelledError | KeyboardInterrupt):
                self._incident("supervisor", f"the supervisor failed: {ex}", kill=False)
            self.state.status = "failed"
            raise
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            decoy_watch.close()
            self._write_watch.close()
            await shims.close()
            if control is not None:
                control.close()
            if self._proxy is not None:
                await self._proxy.close()
            self._after_command(None)
            if self._memory_cgroup is not None:
                with contextlib.suppress(OSError):
                    self._memory_cgroup.close()
            self._finish(exit_code)
            # The sandbox's home, /tmp and decoys were scratch; the record stays.
            for scratch in (self.layout.host_dir, self.sockets):
                with contextlib.suppress(OSError):
                    remove_tree(scratch)
        return self._summary(exit_code)

    async def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        ready_read, ready_write = os.pipe()
        command = self.command
        if self.egress:
            from ._egress import egress_command

            command = egress_command(command)
        # bwrap reports its child's pid before the child sets up the mounts; the first
        # byte on this pipe, written by the real shell just before it becomes the agent,
        # says the sandbox really started (a failed setup closes the pipe unwritten).
        command = [
            f"{REAL_SHELL_DIR}/bash",
            "-c",
            f'printf R >&{ready_write} && exec {ready_write}>&- && exec "$@"',
            "tripwire-start",
            *command,
        ]
        argv = self.layout.argv(command, info_fd=write_fd, term=os.environ.get("TERM"))
        limits = self.settings.limits
        owner = self.owner

        # Computed here: the child between fork and exec should only make system calls.
        values = rlimit_values(
            memory_bytes=limits.memory_bytes,
            max_file_bytes=limits.max_file_bytes,
            max_open_files=limits.max_open_files,
            max_processes=limits.max_processes,
            cpu_seconds=limits.cpu_seconds,
            shared_uid=owner is None,
        )

        procs = None
        if os.geteuid() == 0 and memory_cgroup_root() is not None:
            try:
                self._memory_cgroup = MemoryCgroup(limits.total_memory_bytes)
                procs = os.fsencode(self._memory_cgroup.procs_file)
            except OSError as ex:  # limited per process only, as without root
                logger.warning("no memory cgroup for the run: %s", ex)

        def in_child() -> None:
            if procs is not None:  # into the run's memory cgroup, children follow
                fd = os.open(procs, os.O_WRONLY)
                try:
                    os.write(fd, str(os.getpid()).encode())
                finally:
                    os.close(fd)
            for which, value in values.items():
                resource.setrlimit(which, (value, value))
            if owner is not None:
                os.setgroups([])
                os.setgid(owner[1])
                os.setuid(owner[0])

        try:
            self._proc = await asyncio.create_subprocess_exec(
                *argv,
                pass_fds=(write_fd, ready_write),
                preexec_fn=in_child,
                # bwrap's own init keeps its environment, readable in /proc/1/environ
                # inside: give it nothing of the user's (API keys live there).
                env={"PATH": os.environ.get("PATH", os.defpath)},
                start_new_session=False,
            )
        except OSError as ex:
            raise SandboxError(f"cannot start bwrap: {ex}") from ex
        finally:
            os.close(write_fd)
            os.close(ready_write)
        try:
            info = await asyncio.wait_for(asyncio.to_thread(_read_info, read_fd), _START_TIMEOUT)
            ready = await asyncio.wait_for(
                asyncio.to_thread(os.read, ready_read, 1), _START_TIMEOUT
            )
        except TimeoutError as ex:
            raise SandboxError(
                f"the sandbox did not start within {_START_TIMEOUT:g} s (bwrap hangs)"
            ) from ex
        finally:
            os.close(read_fd)
            os.close(ready_read)
        if info is None or ready != b"R":
            code = await self._proc.wait()
            raise SandboxError(
                f"bwrap could not start the sandbox (exit {code}); its message is above. "
                "Check that user namespaces are enabled (sysctl kernel.unprivileged_userns_clone=1)"
            )
        self._sandbox_pid = info
        self.state.sandbox_pid = info
        self.state.sandbox_start_ticks = process_start_ticks(info)
        self._audit("sandbox-start", {"sandbox_pid": info, "bwrap_pid": self._proc.pid})

    async def _periodic(self) -> None:
        interval = self.settings.watch_interval
        next_check = time.monotonic() + interval
        rescan = self.settings.rescan_interval
        next_scan = time.monotonic() + rescan
        while True:
            await asyncio.sleep(min(_FLUSH_SECONDS, interval))
            try:
                next_check, next_scan = await self._tick(next_check, next_scan)
            except Exception as ex:  # fail closed: a watch that stopped would see nothing
                self._supervisor_failure(f"the periodic watch failed ({type(ex).__name__}: {ex})")
                return

    async def _tick(self, next_check: float, next_scan: float) -> tuple[float, float]:
        """One turn of the periodic watch: flush the log, check files, look for new ones."""
        interval = self.settings.watch_interval
        rescan = self.settings.rescan_interval
        if self._log is not None and not self._log.closed:
            self._log.flush()
        now = time.monotonic()
        if now >= next_check:
            next_check = now + interval
            self._report_changes(self._check_files(), self._blame())
        if now >= next_scan:  # new files: a walk of the workdir, so less often
            next_scan = now + rescan
            found = await asyncio.to_thread(self.integrity.find)
            created = self.integrity.admit(found)
            self._report_changes(created, self._blame())
            if self._write_watch is not None:
                for change in created:
                    if os.path.isfile(change.path) and not os.path.islink(change.path):
                        self._write_watch.add(change.path, change.path)
            if self.integrity.truncated and not self._scan_cut_reported:
                # A workdir flooded with files hides new ones past the limit: say so.
                self._scan_cut_reported = True
                self._incident(
                    "integrity",
                    f"the working directory holds more than {self.integrity.limit} entries; "
                    "new protected or watched files past them are not seen "
                    "(run.max_watched_files)",
                    command=self._blame(),
                    kill=False,
                )
        return next_check, next_scan

    async def _deadline(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._incident("timeout", f"the run reached its {seconds:g} s limit", kill=True)

    # -- the shim's questions ----------------------------------------------------------

    async def _decide(self, request: ShellRequest) -> Verdict:
        if self._killed_by is not None:
            return Verdict("kill", "the run is being stopped")
        if request.mode == "line":
            # The session's previous command has run by now: check what it changed.
            self._after_command(self._last_command)
        answer = await self.gate.decide(request)
        if answer.allowed:
            if request.mode or answer.line_by_line:
                self._last_command = request.command  # no end is reported for these
            else:
                self._running[request.pid] = request.command
            return Verdict("allow", line_by_line=answer.line_by_line)
        return self._refuse(answer, request.command)

    async def _finished(self, request: ShellRequest, status: int | None) -> None:
        if request.mode:
            return  # sessions and their lines report no end; the next line or tick checks
        self._running.pop(request.pid, None)
        self._last_command = request.command
        self._audit("command-end", {"pid": request.pid, "status": status})
        self._after_command(request.command)

    def _after_command(self, command: str | None) -> None:
        self._report_changes(self._check_files(), command or self._blame())

    def _check_files(self) -> list[FileChange]:
        if self._write_watch is not None:
            self._write_watch.poll()  # writes queued by the kernel, before comparing
        return self.integrity.check()

    # -- incidents and the kill switch -------------------------------------------------

    def _blame(self) -> str | None:
        if self._running:
            return " ; ".join(self._running.values())
        return self._last_command

    def _stopping(self) -> bool:
        return self._killed_by is not None or self._proc is None

    def _enact(self, incident: Incident) -> None:
        if incident.killed:  # first: nothing below may keep the sandbox alive
            self._kill(f"{incident.kind}: {incident.detail}")
        self._audit("incident", incident.model_dump(exclude_none=True), sync=True)
        if self._on_incident is not None:
            self._on_incident(incident)

    def _kill(self, why: str) -> None:
        """Stop the whole sandbox now (idempotent); `_kill_done` is set once it is gone."""
        if self._killed_by is not None:
            return
        self._killed_by = why
        started = time.monotonic()
        if self._sandbox_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._sandbox_pid, signal.SIGKILL)
        asyncio.get_running_loop().create_task(self._await_gone(started))

    async def _await_gone(self, started: float) -> None:
        proc = self._proc
        if proc is not None:
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:  # bwrap itself hangs: take it down too
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        self._kill_latency = (time.monotonic() - started) * 1000
        self._audit(
            "killed",
            {"why": self._killed_by, "milliseconds": round(self._kill_latency, 1)},
            sync=True,
        )
        assert self._kill_done is not None
        self._kill_done.set()

    async def _stop_sandbox(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._kill("supervisor stopping")
            assert self._kill_done is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kill_done.wait(), 10)

    async def kill(self, reason: str = "operator") -> float | None:
        """Stop the run (the kill switch); returns the milliseconds it took."""
        self._incident("kill-switch", f"kill switch: {reason}", kill=True)
        if self._kill_done is not None:
            await self._kill_done.wait()
        return self._kill_latency

    async def _control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await asyncio.wait_for(reader.readline(), 5)).decode(errors="replace")
            verb, _, reason = line.strip().partition(" ")
            if verb == "kill":
                took = await self.kill(reason or "operator")
                writer.write(f"killed {0.0 if took is None else took:.1f}\n".encode())
            elif verb == "status":
                writer.write((json.dumps(self._status()) + "\n").encode())
            else:
                writer.write(b"error unknown request\n")
            await writer.drain()
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    def _status(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            **self.gate.counts,
            "incidents": len(self.incidents),
            "killed_by": self._killed_by,
        }

    # -- egress ------------------------------------------------------------------------

    async def _start_egress(self) -> None:
        from ._egress import start_egress

        self._proxy = await start_egress(self)

    def audit_egress(self, request: Any, *, refused_for: str | None) -> None:
        """Log one request through the egress proxy."""
        self._audit(
            "egress",
            {
                "method": request.method,
                "host": request.host,
                "port": request.port,
                "url": request.url,
                "allowed": request.allowed and refused_for is None,
                "refused_for": refused_for or (None if request.allowed else "not on the allowlist"),
            },
        )

    def egress_leak(self, host: str, what: str) -> None:
        """A planted credential was on its way out: refused; an incident like a decoy read."""
        self._incident(
            "honeytoken",
            f"a planted credential was sent towards {host} ({what}); the request was refused",
            command=self._blame(),
            kill=self.settings.on_honeytoken == "kill",
        )

    # -- the end -----------------------------------------------------------------------

    def _audit(self, kind: str, data: dict[str, Any], *, sync: bool = False) -> None:
        if self._log is None or self._log.closed:
            return
        try:
            self._log.append(kind, data)
            if sync:
                self._log.flush()
        except (AuditError, OSError) as ex:
            # Fail closed: an agent whose actions can no longer be recorded is stopped.
            self._supervisor_failure(f"the audit log cannot be written ({ex})")

    def _supervisor_failure(self, what: str) -> None:
        """The supervisor can no longer do its job: record it in memory and stop the run."""
        if self._failed is not None:
            return
        self._failed = what
        self.incidents.append(
            Incident(
                kind="supervisor",
                detail=f"{what}; run stopped",
                killed=self._killed_by is None and self._proc is not None,
                seconds=round(time.monotonic() - self._started, 3),
            )
        )
        if self._proc is not None:
            self._kill(f"supervisor: {what}")

    def _finish(self, exit_code: int | None) -> None:
        if self.state.status != "failed":
            self.state.status = "killed" if self._killed_by else "finished"
        self.state.ended = time.time()
        self.state.exit_code = exit_code
        if self._log is not None and not self._log.closed:
            self._audit(
                "run-end", {"status": self.state.status, "exit_code": exit_code, **self.gate.counts}
            )
            self._log.checkpoint()  # the run's last records signed with the key
            self._log.close()
            self.state.audit_head = _last_hash(self._log.path)
        write_state(self.run_dir, self.state)
        summary = self._summary(exit_code)
        (self.run_dir / "summary.json").write_text(summary.model_dump_json(indent=2))

    def _summary(self, exit_code: int | None) -> RunSummary:
        proxy = self._proxy
        return RunSummary(
            run_id=self.run_id,
            status=self.state.status,
            exit_code=exit_code,
            seconds=round(time.monotonic() - self._started, 3),
            allowed=self.gate.counts["allowed"],
            denied=self.gate.counts["denied"],
            asked=self.gate.counts["asked"],
            egress_allowed=proxy.requests_allowed if proxy else 0,
            egress_refused=proxy.requests_refused if proxy else 0,
            incidents=self.incidents,
            killed_by=self._killed_by,
            kill_latency_ms=None if self._kill_latency is None else round(self._kill_latency, 1),
            audit_log=self.state.audit_log,
            audit_head=self.state.audit_head,
        )


def _checked_workdir(workdir: Path) -> Path:
    path = workdir.expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"working directory {workdir} does not exist or is not a directory")
    if path == Path("/") or str(path) in ("/usr", "/bin", "/lib", "/etc", "/proc", "/dev"):
        raise ConfigError(f"{path} cannot be the agent's working directory: choose a project")
    return path


def _short_temp_dir() -> str:
    """The temp dir, unless its path leaves too little room for a socket name."""
    base = traversable_temp_dir()
    return base if len(base) <= 48 else "/tmp"


def _parse_mounts(items: list[str]) -> dict[str, bool]:
    mounts: dict[str, bool] = {}
    for item in items:
        path, _, mode = item.partition(":")
        if mode not in ("", "ro", "rw"):
            raise ConfigError(f"--mount {item!r}: give PATH, PATH:ro or PATH:rw")
        resolved = Path(path).expanduser().resolve()
        if not resolved.exists():
            raise ConfigError(f"--mount {path}: no such file or directory")
        if resolved == Path("/"):
            raise ConfigError("--mount /: the whole host cannot be mounted into the sandbox")
        mounts[str(resolved)] = mode == "rw"
    return mounts


_SANDBOX_PATH = ("/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin")


def _find_command(name: str, workdir: Path, mounts: list[str]) -> None:
    """Refuse at once a command the sandbox cannot run (bwrap would say so less clearly)."""
    if "/" in name:
        path = workdir / name if not name.startswith("/") else Path(name)
        visible = [str(workdir), "/usr", "/bin", "/sbin", "/lib", *mounts]
        inside = any(str(path.resolve()).startswith(v.rstrip("/") + "/") for v in visible)
        if not inside:
            raise ConfigError(
                f"{name} lies outside what the sandbox sees (the system, the working "
                "directory): mount it with --mount PATH"
            )
        if not os.access(path, os.X_OK):
            raise ConfigError(f"{name}: not an executable file")
        return
    if not any(os.access(os.path.join(d, name), os.X_OK) for d in _SANDBOX_PATH):
        here = shutil.which(name)
        hint = (
            f" (here it is {here}: mount it with --mount {os.path.dirname(here)})" if here else ""
        )
        raise ConfigError(f"command {name!r} is not on the sandbox's PATH{hint}")


def _read_info(fd: int) -> int | None:
    """The sandbox's pid 1 (host pid) from bwrap's `--info-fd`, or None if bwrap failed."""
    data = b""
    while chunk := os.read(fd, 4096):
        data += chunk
        with contextlib.suppress(ValueError):
            return int(json.loads(data)["child-pid"])
    return None


def _last_hash(path: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, IndexError):
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - 65536))
            last = handle.read().splitlines()[-1]
        return str(json.loads(last)["hash"])
    return None
