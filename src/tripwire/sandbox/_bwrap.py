"""The `bwrap` Inspect sandbox provider: one bubblewrap tree per sample."""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import yaml
from inspect_ai.util import (
    ExecResult,
    OutputLimitExceededError,
    SandboxEnvironment,
    SandboxEnvironmentConfigType,
    SandboxEnvironmentLimits,
    SandboxUserUnsupportedError,
    sandboxenv,
    subprocess,
)
from pydantic import BaseModel, ValidationError
from typing_extensions import override

from tripwire._errors import ConfigError, SandboxError
from tripwire._untrusted import load_yaml, yaml_problem

from ._command import READY_MARKER, bwrap_argv, require_bwrap
from ._config import BwrapConfig
from ._host_io import ThroughSymlink, read_beneath, write_beneath
from ._limit_events import record_limit, stderr_limits
from ._tree import AGENT_UID, SERVICE_UID, SampleTree

if TYPE_CHECKING:
    from tripwire.supervisor._sandboxed import SandboxSupervision

__all__ = ["BwrapSandboxEnvironment", "bwrap_sandbox"]

logger = logging.getLogger(__name__)

_USERS = {
    None: AGENT_UID,
    "agent": AGENT_UID,
    str(AGENT_UID): AGENT_UID,
    "root": 0,
    "0": 0,
    "service": SERVICE_UID,
    str(SERVICE_UID): SERVICE_UID,
}


@sandboxenv(name="bwrap")
class BwrapSandboxEnvironment(SandboxEnvironment):
    """A bubblewrap sandbox: no network, own pid namespace, read-only system, limits.

    Each sample gets a fresh host tree (see `SampleTree`); every `exec` starts a new
    `bwrap` over it, so nothing the agent starts outlives its command. With
    `BwrapConfig.guard` the agent's commands run under a guard policy (see
    `tripwire.supervisor._sandboxed`).
    """

    def __init__(self, tree: SampleTree) -> None:
        super().__init__()
        self.tree = tree
        self.supervision: SandboxSupervision | None = None
        """The sample's guard, when `BwrapConfig.guard` is set."""

    @property
    def has_service_account(self) -> bool:
        """Whether `exec(user="service")` runs as a second host uid (tripwire is root)."""
        return self.tree.service_host_uid is not None

    @property
    def workdir(self) -> str:
        """The agent's working directory: where `exec` runs without a `cwd`."""
        return self.tree.inside_path(".")

    @override
    @classmethod
    def config_deserialize(cls, config: dict[str, object]) -> BaseModel:
        return BwrapConfig.model_validate(config)

    @override
    @classmethod
    async def task_init(cls, task_name: str, config: SandboxEnvironmentConfigType | None) -> None:
        require_bwrap()
        resolved = _resolve_config(config)
        if resolved.guard is not None:
            from tripwire.supervisor._sandboxed import check_guard_config

            check_guard_config(resolved)

    @override
    @classmethod
    async def sample_init(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        metadata: dict[str, str],
    ) -> dict[str, SandboxEnvironment]:
        require_bwrap()
        tree = SampleTree(_resolve_config(config))
        environment = cls(tree)
        try:
            if tree.config.guard is not None:
                from tripwire.supervisor._sandboxed import SandboxSupervision

                environment.supervision = await SandboxSupervision.start(tree)
            # With the guard's mounts, so a shim or decoy bwrap cannot mount fails here.
            probe = await environment._run(["true"], cwd=None, uid=AGENT_UID, timeout=60)
            if not probe.success:
                raise SandboxError(f"bwrap sandbox cannot run commands: {probe.stderr.strip()}")
        except BaseException:
            await environment._close()
            raise
        return {"default": environment}

    @override
    @classmethod
    async def sample_cleanup(
        cls,
        task_name: str,
        config: SandboxEnvironmentConfigType | None,
        environments: dict[str, SandboxEnvironment],
        interrupted: bool,
    ) -> None:
        for environment in environments.values():
            await environment.as_type(BwrapSandboxEnvironment)._close()

    @override
    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: int | None = None,
        timeout_retry: bool = True,
        concurrency: bool = True,
    ) -> ExecResult[str]:
        if user not in _USERS:
            raise SandboxUserUnsupportedError(
                f"bwrap sandbox runs commands as 'agent', 'root' or 'service', not {user!r}"
            )
        if _USERS[user] == SERVICE_UID and self.tree.service_host_uid is None:
            raise SandboxUserUnsupportedError(
                "the bwrap sandbox's 'service' account is a second host uid, which needs "
                "tripwire to run as root"
            )
        if not cmd:
            raise ValueError("exec needs a command")
        uid = _USERS[user]

        async def run() -> ExecResult[str]:
            return await self._run(
                cmd,
                input=input,
                cwd=cwd,
                env=env,
                uid=uid,
                timeout=timeout,
                concurrency=concurrency,
            )

        supervision = self.supervision
        if supervision is None:
            return await run()
        if uid == AGENT_UID:
            return await supervision.agent_command(cmd, run)
        # Root and the service account are the harness: unguarded, and what they change
        # is not charged to the agent.
        try:
            return await run()
        finally:
            supervision.harness_changed()

    async def _run(
        self,
        cmd: list[str],
        *,
        cwd: str | None,
        uid: int,
        timeout: int | None,
        input: str | bytes | None = None,
        env: dict[str, str] | None = None,
        concurrency: bool = True,
        guarded: bool = True,
    ) -> ExecResult[str]:
        """Run `cmd` in a fresh `bwrap` (the guard's mounts apply to the agent's uid)."""
        if not self.tree.root.exists():
            raise SandboxError(f"bwrap sandbox tree {self.tree.root} no longer exists")
        argv = bwrap_argv(
            self.tree,
            cmd,
            cwd=self.tree.inside_path(".", cwd),
            env=env,
            uid=uid,
            guarded=guarded,
        )
        seconds = timeout if timeout is not None else self.tree.config.default_timeout
        before = self._usage()
        try:
            result = await subprocess(
                argv,
                input=input,
                timeout=seconds,
                output_limit=SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE,
                concurrency=concurrency,
            )
        except TimeoutError:
            if uid == AGENT_UID:
                record_limit("timeout", f"killed after {seconds} s", cmd)
            raise
        if uid == AGENT_UID:
            self._record_limits(cmd, before, result)
        stderr = result.stderr
        if stderr.startswith(READY_MARKER):
            stderr = stderr[len(READY_MARKER) :]
            if result.returncode == 126 and _cannot_execute(cmd[0], stderr):
                raise PermissionError(errno.EACCES, "Permission denied (not executable)", cmd[0])
            return ExecResult(
                success=result.success,
                returncode=result.returncode,
                stdout=result.stdout,
                stderr=stderr,
            )
        if len(stderr) >= SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE // 2:
            # The ring buffer dropped the marker: the command ran and wrote a lot.
            return result
        raise SandboxError(f"bwrap failed to start the sandbox: {stderr.strip()[:500]}")

    def _usage(self) -> tuple[int, bool, bool]:
        """(memory-limit hits so far, disk full, inodes used up) of the sample's limits."""
        cgroup = self.tree.memory_cgroup
        ooms = cgroup.limit_hits() if cgroup is not None else 0
        if not self.tree.disk_quota:
            return ooms, False, False
        try:
            fs = os.statvfs(self.tree.root / "fs")
        except OSError:
            return ooms, False, False
        return ooms, fs.f_bavail == 0, fs.f_favail == 0

    def _record_limits(
        self, cmd: list[str], before: tuple[int, bool, bool], result: ExecResult[str]
    ) -> None:
        ooms, disk_full, inodes_out = self._usage()
        if ooms > before[0]:
            record_limit("memory", "the sample reached its memory limit", cmd)
        if disk_full and not before[1]:
            record_limit("disk", f"{self.tree.config.disk_bytes:,} bytes in use", cmd)
        if inodes_out and not before[2]:
            record_limit("files", f"{self.tree.config.max_files:,} files in use", cmd)
        kept = SandboxEnvironmentLimits.MAX_EXEC_OUTPUT_SIZE
        # Inspect keeps the last `kept` bytes of each stream, dropping whole pipe reads
        # (up to 64 KiB each) from the front: a buffer that full was cut.
        full = kept - 2 * 65536
        for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
            if len(text) * 4 >= full and len(text.encode("utf-8", "replace")) >= full:
                record_limit("output", f"{name} cut to about its last {kept:,} bytes", cmd)
        for limit, detail in stderr_limits(result.stderr):
            record_limit(limit, detail, cmd)

    @override
    async def write_file(self, file: str, contents: str | bytes) -> None:
        try:
            await self._write_file(file, contents)
        finally:
            if self.supervision is not None:
                self.supervision.harness_changed()

    async def _write_file(self, file: str, contents: str | bytes) -> None:
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        inside = self.tree.inside_path(file)
        mapped = self.tree.host_path(inside)
        if mapped is None:
            raise PermissionError(f"{inside} is read-only in the bwrap sandbox")
        host, host_root = mapped
        uid, gid = self.tree.agent_ids
        try:
            write_beneath(host_root, host, data, uid, gid, self.tree.host_uid)
        except ThroughSymlink:
            await self._write_inside(inside, data)
        except IsADirectoryError as ex:
            raise _is_a_directory(inside) from ex
        except PermissionError as ex:
            raise _permission_denied(inside) from ex

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    @override
    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        inside = self.tree.inside_path(file)
        mapped = self.tree.host_path(inside)
        data = (
            await self._read_inside(inside) if mapped is None else await self._read(inside, *mapped)
        )
        if text:
            return data.decode("utf-8", errors="replace")
        return data

    async def _read(self, inside: str, host: Path, host_root: Path) -> bytes:
        """Read a file of the writable tree from the host (through the sandbox past a link)."""
        uid, gid = self.tree.agent_ids
        limit = SandboxEnvironmentLimits.MAX_READ_FILE_SIZE
        try:
            return read_beneath(host_root, host, uid, gid, limit)
        except ThroughSymlink:
            return await self._read_inside(inside)
        except FileNotFoundError as ex:
            raise _not_found(inside) from ex
        except IsADirectoryError as ex:
            raise _is_a_directory(inside) from ex
        except PermissionError as ex:
            raise _permission_denied(inside) from ex
        except OverflowError as ex:
            raise OutputLimitExceededError(
                limit_str=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, truncated_output=None
            ) from ex

    @override
    def default_polling_interval(self) -> float:
        return 0.2

    async def _close(self) -> None:
        """Stop the sample's guard (if any) and delete its tree."""
        try:
            if self.supervision is not None:
                await self.supervision.close()
        finally:
            try:
                self.tree.cleanup()
            except OSError as ex:
                logger.warning("could not delete bwrap sandbox tree: %s", ex)

    async def _read_inside(self, inside: str) -> bytes:
        # Through the sandbox, so symlinks resolve where the agent made them point; as
        # the harness, so the guard neither checks this nor shows it the decoys.
        script = 'if [ -d "$1" ]; then echo "is a directory" >&2; exit 21; fi; exec cat -- "$1"'
        argv = bwrap_argv(self.tree, ["sh", "-c", script, "sh", inside], cwd="/", guarded=False)
        run = await subprocess(
            argv,
            text=False,
            timeout=self.tree.config.default_timeout,
            output_limit=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE + 1,
        )
        stderr = run.stderr.decode(errors="replace")
        if not stderr.startswith(READY_MARKER):
            raise SandboxError(f"bwrap failed to start the sandbox: {stderr.strip()[:500]}")
        if run.success:
            if len(run.stdout) > SandboxEnvironmentLimits.MAX_READ_FILE_SIZE:
                raise OutputLimitExceededError(
                    limit_str=SandboxEnvironmentLimits.MAX_READ_FILE_SIZE_STR, truncated_output=None
                )
            return run.stdout
        message = stderr[len(READY_MARKER) :].strip()
        if run.returncode == 21:
            raise _is_a_directory(inside)
        if "No such file" in message:
            raise _not_found(inside)
        if "Permission denied" in message:
            raise _permission_denied(inside)
        raise SandboxError(f"cannot read {inside} in the sandbox: {message[:300]}")

    async def _write_inside(self, inside: str, data: bytes) -> None:
        script = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
        result = await self._run(
            ["sh", "-c", script, "sh", inside],
            input=data,
            cwd="/",
            uid=AGENT_UID,
            timeout=None,
            guarded=False,
        )
        if not result.success:
            message = result.stderr.strip()
            if "Permission denied" in message or "Read-only" in message:
                raise _permission_denied(inside)
            if "nonexistent" in message or "No such file" in message:
                raise _not_found(inside)
            raise SandboxError(f"cannot write {inside} in the sandbox: {message[:300]}")


@asynccontextmanager
async def bwrap_sandbox(
    config: BwrapConfig | None = None,
) -> AsyncIterator[BwrapSandboxEnvironment]:
    """A bwrap sandbox outside an Inspect eval, deleted on exit (for scripts and tests).

    Args:
        config: Sandbox configuration; defaults apply when None.
    """
    environments = await BwrapSandboxEnvironment.sample_init("standalone", config, {})
    try:
        yield environments["default"].as_type(BwrapSandboxEnvironment)
    finally:
        await BwrapSandboxEnvironment.sample_cleanup("standalone", config, environments, False)


def _cannot_execute(program: str, stderr: str) -> bool:
    """Whether the start-up line's `exec` of `program` failed for want of permission.

    Only the start-up shell's own message counts (dash: `sh: 1: exec: P: Permission
    denied`, bash: `sh: line 1: P: Permission denied`), not a command that ran and
    failed the same way inside.
    """
    first = stderr.split("\n", 1)[0]
    pattern = rf"sh: (?:1|line 1): (?:exec: )?{re.escape(program)}: (?:cannot execute: )?"
    return re.fullmatch(pattern + "Permission denied", first) is not None


def _is_a_directory(inside: str) -> IsADirectoryError:
    return IsADirectoryError(errno.EISDIR, "Is a directory", inside)


def _not_found(inside: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "No such file or directory", inside)


def _permission_denied(inside: str) -> PermissionError:
    return PermissionError(errno.EACCES, "Permission denied", inside)


def _resolve_config(config: SandboxEnvironmentConfigType | None) -> BwrapConfig:
    """Accept None, a `BwrapConfig`, or the path of a YAML file with its fields."""
    if config is None:
        return BwrapConfig()
    if isinstance(config, BwrapConfig):
        return config
    if isinstance(config, str):
        try:
            raw = load_yaml(Path(config).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError) as ex:
            raise ConfigError(f"Cannot read bwrap sandbox config {config}: {ex}") from ex
        except yaml.YAMLError as ex:
            raise ConfigError(
                f"Invalid bwrap sandbox config {config}: not YAML ({yaml_problem(ex)})"
            ) from ex
        if not isinstance(raw, dict):
            raise ConfigError(
                f"Invalid bwrap sandbox config {config}: expected a mapping of BwrapConfig "
                f"fields, not {type(raw).__name__}"
            )
        try:
            return BwrapConfig.model_validate(raw)
        except ValidationError as ex:
            raise ConfigError(f"Invalid bwrap sandbox config {config}: {_problems(ex)}") from ex
    if isinstance(config, BaseModel):
        try:
            return BwrapConfig.model_validate(config.model_dump())
        except ValidationError as ex:
            raise ConfigError(f"Invalid bwrap sandbox config: {_problems(ex)}") from ex
    raise ConfigError(f"bwrap sandbox config must be a BwrapConfig or a YAML path, not {config!r}")


def _problems(ex: ValidationError) -> str:
    """Pydantic's errors on one line: `field: message; ...`."""
    return "; ".join(
        f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
        for error in ex.errors()
    )
