"""bwrap sandbox exec latency vs Inspect's `local` sandbox and Docker, in one process (SPEC §11).

All providers run the same commands, interleaved round by round so machine noise
hits them alike; the figures that matter are the ratios (targets: bwrap ≤ 2× local,
≥ 10× faster than Docker). Commands: `true` (bare process start), the oversight
detector's stat script, and a typical agent command (`bash -c` reading a file). The
harness-side `read_file` (host-side for bwrap, no process) is timed too, and so is a
sample's setup + teardown (`sample_init` + `sample_cleanup`; for Docker, `docker run`
+ `docker rm -f` of a container from a local image).

Docker is `docker exec` against a running container (see `_docker.py`: nothing is
pulled; a daemon is started if none runs and `dockerd` is installed); without one the
Docker rows say `skipped: <why>`.

Run: `.venv/bin/python bench/bwrap_vs_local.py [--rounds 100] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _docker import DockerContainer, docker_container  # noqa: E402
from _rows import Row, Skipped, Target  # noqa: E402
from inspect_ai.util import SandboxEnvironment  # noqa: E402
from inspect_ai.util._sandbox.local import LocalSandboxEnvironment  # noqa: E402

from tripwire.sandbox import BwrapSandboxEnvironment  # noqa: E402

SECTION = "sandbox"

COMMANDS: dict[str, list[str]] = {
    "true": ["true"],
    "bash -c cat": ["bash", "-c", "cat project/config.yaml | head -n 2"],
    "sh stat": ["sh", "-c", 'stat -c "%F %a" "$1"', "sh", "project/config.yaml"],
}
CONFIG_TEXT = "oversight_enabled: true\nx: 1\n"

LOCAL_TARGET = Target(on="ratio", op="<=", value=2.0)
DOCKER_TARGET = Target(on="ratio", op="<=", value=0.1)  # ≥ 10× faster than Docker

ROWS: dict[str, str] = {
    **{f"exec {name}: bwrap vs local": "ms/exec" for name in COMMANDS},
    "read_file: bwrap vs local": "ms/call",
    "sample setup+teardown: bwrap vs local": "ms/sample",
    **{f"exec {name}: bwrap vs docker exec": "ms/exec" for name in COMMANDS},
    "sample setup+teardown: bwrap vs docker run+rm": "ms/sample",
}


async def _time(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


def _docker_exec(container: DockerContainer, cmd: list[str]) -> Callable[[], Awaitable[object]]:
    argv = [container.docker, "exec", "-w", "/workspace", container.container, *cmd]

    async def run() -> object:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=container.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"docker exec {cmd[0]} failed: {err.decode()[-200:]}")
        return out

    return run


def _docker_sample(container: DockerContainer) -> Callable[[], Awaitable[object]]:
    async def run() -> object:
        started = container.cli("run", "-d", "--network", "none", container.image, "true")
        container.cli("rm", "-f", started.stdout.decode().strip())
        return None

    return run


async def _sample_roundtrip(provider: type[SandboxEnvironment]) -> None:
    environments = await provider.sample_init("bench", None, {})
    await provider.sample_cleanup("bench", None, environments, False)


async def race(
    rounds: int, sample_rounds: int, docker: DockerContainer | None
) -> dict[str, list[float]]:
    """Seconds per call for every (operation, provider), interleaved round by round."""
    local = (await LocalSandboxEnvironment.sample_init("bench", None, {}))["default"]
    bwrap = (await BwrapSandboxEnvironment.sample_init("bench", None, {}))["default"]
    envs: dict[str, SandboxEnvironment] = {"local": local, "bwrap": bwrap}
    samples: dict[str, list[float]] = {}
    try:
        for env in envs.values():
            await env.write_file("project/config.yaml", CONFIG_TEXT)
        if docker is not None:
            docker.cli(
                "exec", "-w", "/workspace", docker.container, "sh", "-c",
                f"mkdir -p project && printf '{CONFIG_TEXT}' > project/config.yaml",
            )  # fmt: skip
        for name, cmd in COMMANDS.items():
            calls: dict[str, Callable[[], Awaitable[object]]] = {
                kind: (lambda env=env, cmd=cmd: env.exec(cmd))  # type: ignore[misc]
                for kind, env in envs.items()
            }
            if docker is not None:
                calls["docker"] = _docker_exec(docker, cmd)
            for call in calls.values():  # warm up
                await call()
            for _ in range(rounds):
                for kind, call in calls.items():
                    samples.setdefault(f"{name}/{kind}", []).append(await _time(call))
        for _ in range(rounds):
            for kind, env in envs.items():
                elapsed = await _time(lambda env=env: env.read_file("project/config.yaml"))  # type: ignore[misc]
                samples.setdefault(f"read_file/{kind}", []).append(elapsed)
    finally:
        await LocalSandboxEnvironment.sample_cleanup("bench", None, {"default": local}, False)
        await BwrapSandboxEnvironment.sample_cleanup("bench", None, {"default": bwrap}, False)

    setups: dict[str, Callable[[], Awaitable[object]]] = {
        "local": lambda: _sample_roundtrip(LocalSandboxEnvironment),
        "bwrap": lambda: _sample_roundtrip(BwrapSandboxEnvironment),
    }
    if docker is not None:
        setups["docker"] = _docker_sample(docker)
    for _ in range(sample_rounds):
        for kind, setup in setups.items():
            samples.setdefault(f"sample/{kind}", []).append(await _time(setup))
    return samples


def measure(quick: bool) -> list[Row]:
    """Race bwrap against local and Docker; one row per operation and rival."""
    rounds, sample_rounds = (20, 5) if quick else (100, 20)
    docker_skip: str | None = None
    with ExitStack() as stack:
        try:
            docker: DockerContainer | None = stack.enter_context(docker_container())
        except Skipped as why:
            docker, docker_skip = None, str(why)
        samples = asyncio.run(race(rounds, sample_rounds, docker))

    def row(what: str, key: str, rival: str, unit: str, target: Target | None) -> Row:
        if f"{key}/{rival}" not in samples:
            return Row(section=SECTION, what=what, unit=unit, skipped=docker_skip)
        ours = statistics.median(samples[f"{key}/bwrap"]) * 1000
        theirs = statistics.median(samples[f"{key}/{rival}"]) * 1000
        count = len(samples[f"{key}/bwrap"])
        return Row(
            section=SECTION, what=what, unit=unit, ours=ours, baseline=theirs,
            target=target, note=f"median of {count}",
        )  # fmt: skip

    rows = [row(f"exec {n}: bwrap vs local", n, "local", "ms/exec", LOCAL_TARGET) for n in COMMANDS]
    rows.append(row("read_file: bwrap vs local", "read_file", "local", "ms/call", None))
    rows.append(row("sample setup+teardown: bwrap vs local", "sample", "local", "ms/sample", None))
    rows += [
        row(f"exec {n}: bwrap vs docker exec", n, "docker", "ms/exec", DOCKER_TARGET)
        for n in COMMANDS
    ]
    rows.append(
        row("sample setup+teardown: bwrap vs docker run+rm", "sample", "docker", "ms/sample", None)
    )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 rounds instead of 100.")
    from _table import print_table  # noqa: E402

    print_table(measure(parser.parse_args().quick))
