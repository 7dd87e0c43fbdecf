"""bwrap sandbox exec latency vs Inspect's `local` sandbox, in one process (SPEC §11).

Both providers run the same commands, interleaved round by round so machine noise
hits both alike; the figure that matters is the ratio (target: bwrap ≤ 2× local).
Commands: `true` (bare process start), the oversight detector's stat script, and a
typical agent command (`bash -c` reading a file). The harness-side `read_file`
(host-side for bwrap, no process) is timed too.

Run: `.venv/bin/python bench/bwrap_vs_local.py [--rounds 200]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from inspect_ai.util import SandboxEnvironment
from inspect_ai.util._sandbox.local import LocalSandboxEnvironment

from tripwire.sandbox import BwrapSandboxEnvironment

COMMANDS: dict[str, list[str]] = {
    "true": ["true"],
    "bash -c cat": ["bash", "-c", "cat project/config.yaml | head -n 2"],
    "sh stat": ["sh", "-c", 'stat -c "%F %a" "$1"', "sh", "project/config.yaml"],
}


async def _time(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def main(rounds: int) -> None:
    local = (await LocalSandboxEnvironment.sample_init("bench", None, {}))["default"]
    bwrap = (await BwrapSandboxEnvironment.sample_init("bench", None, {}))["default"]
    envs: dict[str, SandboxEnvironment] = {"local": local, "bwrap": bwrap}
    try:
        for env in envs.values():
            await env.write_file("project/config.yaml", "oversight_enabled: true\nx: 1\n")
        samples: dict[tuple[str, str], list[float]] = {}
        for name, cmd in COMMANDS.items():
            for env in envs.values():  # warm up
                await env.exec(cmd)
            for _ in range(rounds):
                for kind, env in envs.items():
                    elapsed = await _time(lambda env=env, cmd=cmd: env.exec(cmd))  # type: ignore[misc]
                    samples.setdefault((name, kind), []).append(elapsed)
        for _ in range(rounds):
            for kind, env in envs.items():
                elapsed = await _time(lambda env=env: env.read_file("project/config.yaml"))  # type: ignore[misc]
                samples.setdefault(("read_file", kind), []).append(elapsed)
    finally:
        await LocalSandboxEnvironment.sample_cleanup("bench", None, {"default": local}, False)
        await BwrapSandboxEnvironment.sample_cleanup("bench", None, {"default": bwrap}, False)

    print(f"{'operation':<14}{'local ms':>10}{'bwrap ms':>10}{'ratio':>8}   (median of {rounds})")
    for name in (*COMMANDS, "read_file"):
        local_ms = statistics.median(samples[(name, "local")]) * 1000
        bwrap_ms = statistics.median(samples[(name, "bwrap")]) * 1000
        print(f"{name:<14}{local_ms:>10.2f}{bwrap_ms:>10.2f}{bwrap_ms / local_ms:>8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="Executions per command.")
    asyncio.run(main(parser.parse_args().rounds))
