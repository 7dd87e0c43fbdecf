"""Build the shell shim (a small C program) once per source version and cache it.

Beside it goes `guard.bashrc`, the rc file of shells that read commands from a terminal
or a pipe (sessions), which asks the shim in its `tripwire-check` role before each command.

C, not Python or shell: the shim runs before every shell the agent starts, and a Python
interpreter's start-up alone (about 7 ms here) is more than the 5 ms a command may cost.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from importlib.resources import files
from pathlib import Path

from tripwire._errors import SandboxError

__all__ = ["rc_file", "shim_binary", "shim_cache_dir", "stage_shim"]


def rc_file(shim: Path) -> Path:
    """The rc file kept beside a built shim (see `shim/guard.bashrc`)."""
    return shim.with_name(shim.name + ".bashrc")


def shim_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/tripwire` (default `~/.cache/tripwire`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tripwire"


def shim_binary(cache_dir: Path | None = None) -> Path:
    """The compiled shim, built with the system C compiler on first use.

    Raises:
        SandboxError: No C compiler, or the build failed; the message says what to install.
    """
    shim_dir = files("tripwire.supervisor").joinpath("shim")
    source = shim_dir.joinpath("shell_shim.c").read_bytes()
    rcfile = shim_dir.joinpath("guard.bashrc").read_bytes()
    digest = hashlib.sha256(source + b"\0" + rcfile).hexdigest()[:16]
    directory = cache_dir or shim_cache_dir()
    target = directory / f"shell-shim-{digest}"
    if target.is_file() and os.access(target, os.X_OK) and rc_file(target).is_file():
        return target
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SandboxError(
            "tripwire guard run builds a small shell shim with a C compiler and none was "
            "found: install one (apt-get install -y gcc) or set CC"
        )
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        src = Path(tmp) / "shell_shim.c"
        src.write_bytes(source)
        out = Path(tmp) / "shell-shim"
        # Static when the C library allows it: no dynamic loader at every shell start
        # (about 0.3 ms here); dynamic otherwise.
        for static in (["-static"], []):
            build = subprocess.run(
                [compiler, "-O2", "-Wall", *static, "-o", str(out), str(src)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if build.returncode == 0:
                break
        if build.returncode != 0:
            raise SandboxError(
                f"building tripwire's shell shim with {compiler} failed: "
                f"{build.stderr.strip()[:400]}"
            )
        out.chmod(0o755)
        rc = Path(tmp) / "guard.bashrc"
        rc.write_bytes(rcfile)
        rc.chmod(0o644)
        os.replace(rc, rc_file(target))
        os.replace(out, target)  # atomic: a concurrent run sees the old or the new binary
    return target


def stage_shim(directory: Path) -> Path:
    """A copy of the built shim and its rc file in `directory`.

    For a sandbox whose uid cannot reach the cache (root's home is mode 0700).
    """
    built = shim_binary()
    shim = directory / "shell-shim"
    shutil.copyfile(built, shim)
    shim.chmod(0o755)
    shutil.copyfile(rc_file(built), rc_file(shim))
    rc_file(shim).chmod(0o644)
    return shim
