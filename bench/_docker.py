"""A Docker daemon and a small local image for the sandbox race, or the reason there is none.

Used by `bwrap_vs_local.py`. Nothing is pulled (these machines are offline): a running
daemon's local image with `sh` is used if there is one, else an image is imported
(`docker import`) from a rootfs tarball made of the host's own binaries the bench
commands need (`bash`, `sh`, `cat`, `head`, `stat`, `true`, `sleep`, `mkdir`) and their shared
libraries. With no daemon reachable, `dockerd` is started on a private socket, data
root and exec root under a temporary directory (vfs storage, no iptables, no bridge),
and stopped afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _rows import Skipped

__all__ = ["DockerContainer", "docker_container"]

_BINARIES = ("bash", "sh", "cat", "head", "stat", "true", "sleep", "mkdir")
_IMAGE = "tripwire-bench-min:latest"


@dataclass(frozen=True)
class DockerContainer:
    """A running container to exec into, and how to reach its daemon."""

    docker: str
    """Path of the docker CLI."""

    env: dict[str, str]
    """Environment for the CLI (DOCKER_HOST points at the daemon)."""

    image: str
    """The local image the container runs."""

    container: str
    """The container's id."""

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        """Run the docker CLI against this daemon."""
        return subprocess.run(
            [self.docker, *args], env=self.env, capture_output=True, check=check, timeout=120
        )


@contextmanager
def docker_container() -> Iterator[DockerContainer]:
    """A container running `sleep infinity` from a local image; removed afterwards.

    Raises:
        Skipped: No docker CLI, no daemon and no `dockerd` to start, or the daemon
            cannot run a container here (the exact reason is in the message).
    """
    docker = shutil.which("docker")
    if docker is None:
        raise Skipped("no docker CLI on PATH")
    with tempfile.TemporaryDirectory(prefix="tripwire-bench-docker-") as scratch:
        env = dict(os.environ)
        daemon: subprocess.Popen[bytes] | None = None
        if not _reachable(docker, env):
            daemon, env = _start_dockerd(docker, Path(scratch))
        try:
            image = _local_image(docker, env) or _import_image(docker, env, Path(scratch))
            run = subprocess.run(
                [docker, "run", "-d", "--network", "none", image, "sleep", "infinity"],
                env=env,
                capture_output=True,
                timeout=120,
            )
            if run.returncode != 0:
                raise Skipped(f"docker run failed: {_last_line(run.stderr)}")
            container = DockerContainer(docker, env, image, run.stdout.decode().strip())
            try:
                yield container
            finally:
                container.cli("rm", "-f", container.container, check=False)
        finally:
            if daemon is not None:
                daemon.terminate()
                try:
                    daemon.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()


def _reachable(docker: str, env: dict[str, str]) -> bool:
    probe = subprocess.run([docker, "info"], env=env, capture_output=True, timeout=30)
    return probe.returncode == 0


def _start_dockerd(docker: str, scratch: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise Skipped(
            "no Docker daemon reachable (docker info fails) and no dockerd on PATH to start "
            "(the image has only the docker CLI; `apt-get install docker.io` provides dockerd)"
        )
    if os.geteuid() != 0:
        raise Skipped("no Docker daemon reachable, and starting dockerd needs root")
    socket = scratch / "docker.sock"
    log = scratch / "dockerd.log"
    # Short paths: the exec root holds unix sockets, whose paths are limited to 108 bytes.
    command = [
        dockerd,
        f"--host=unix://{socket}",
        f"--data-root={scratch / 'data'}",
        f"--exec-root={scratch / 'exec'}",
        f"--pidfile={scratch / 'dockerd.pid'}",
        "--storage-driver=vfs",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
    ]
    with open(log, "wb") as out:
        daemon = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise Skipped(f"dockerd exited at start: {_last_line(log.read_bytes())}")
        if socket.exists() and _reachable(docker, env):
            return daemon, env
        time.sleep(0.5)
    daemon.terminate()
    daemon.wait()
    raise Skipped(f"dockerd did not answer within 60 s: {_last_line(log.read_bytes())}")


def _local_image(docker: str, env: dict[str, str]) -> str | None:
    listed = subprocess.run(
        [docker, "images", "--format", "{{.Repository}}:{{.Tag}}"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    for image in listed.stdout.decode().split():
        if image == _IMAGE:
            return image
    return None


def _import_image(docker: str, env: dict[str, str], scratch: Path) -> str:
    tarball = scratch / "rootfs.tar"
    _rootfs_tarball(tarball)
    imported = subprocess.run(
        [docker, "import", str(tarball), _IMAGE], env=env, capture_output=True, timeout=300
    )
    if imported.returncode != 0:
        raise Skipped(f"docker import of a host rootfs failed: {_last_line(imported.stderr)}")
    return _IMAGE


def _rootfs_tarball(path: Path) -> None:
    """A tarball of the bench commands' binaries and every shared library they load."""
    files: set[Path] = set()
    for name in _BINARIES:
        found = shutil.which(name)
        if found is None:
            raise Skipped(f"cannot build a local image: no {name} on the host")
        binary = Path(found)
        files.add(binary)
        files.update(_shared_libraries(binary))
    with tarfile.open(path, "w") as tar:
        for file in sorted(files):
            tar.add(file.resolve(), arcname=str(file).lstrip("/"))
        for directory in ("tmp", "workspace", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)


def _shared_libraries(binary: Path) -> set[Path]:
    listed = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    libraries = set()
    for line in listed.stdout.splitlines():
        for word in line.split():
            if word.startswith("/") and Path(word).exists():
                libraries.add(Path(word))
    return libraries


def _last_line(text: bytes) -> str:
    lines = [line for line in text.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else "(no output)"
