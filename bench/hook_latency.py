"""Latency of the coding-agent hook: `tripwire hook` per event vs `hook serve` per request.

Every tool call an agent makes waits for its hook, so both numbers are paid per call:
- command hook: wall time of `python -m tripwire hook` on one recorded event, process
  start included, next to `python -c pass` (the floor for any Python hook);
- HTTP hook: round trip of one POST to `tripwire hook serve` over a keep-alive
  connection (p50/p99), as Claude Code's `"type": "http"` hooks make it.

Both use the shipped default policy and no audit log (`--audit off`) unless
`--audit FILE` is given. Run: `.venv/bin/python bench/hook_latency.py [--runs 20]
[--requests 500]`.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "tests" / "guard" / "data" / "hook_events"
CASES = [
    ("claude", "claude_pre_write_src.json"),
    ("claude", "claude_pre_write_oversight.json"),
    ("claude", "claude_pre_bash_pytest.json"),
    ("gemini", "gemini_before_replace_src.json"),
    ("cursor", "cursor_before_read_file.json"),
]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH") or str(ROOT / "src")}


def _wall(cmd: list[str], stdin: bytes, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, input=stdin, capture_output=True, env=_env(), check=False)
        times.append((time.perf_counter() - started) * 1000)
    return times


def command_hook(runs: int, audit: str) -> None:
    """Median wall time per event of the command hook, and its ratio to `python -c pass`."""
    base = statistics.median(_wall([sys.executable, "-c", "pass"], b"", runs))
    print(f"python -c pass: {base:.1f} ms (median of {runs})")
    for agent, name in CASES:
        cmd = [sys.executable, "-m", "tripwire", "hook", "--agent", agent, "--audit", audit]
        times = _wall(cmd, (EVENTS / name).read_bytes(), runs)
        median = statistics.median(times)
        print(f"tripwire hook {agent:<6} {name:<36} {median:6.1f} ms  ({median / base:.1f}x)")


def http_hook(requests: int, audit: str) -> None:
    """p50/p99 of one POST to `hook serve` over a keep-alive connection."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tripwire", "hook", "serve", "--port", "0", "--audit", audit],
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        banner = server.stderr.readline().decode() if server.stderr else ""
        match = re.search(r":(\d+)/hook/", banner)
        if match is None:
            raise SystemExit(f"hook serve did not start: {banner}")
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=10)
        bodies = [(f"/hook/{agent}", (EVENTS / name).read_bytes()) for agent, name in CASES]
        times = []
        for i in range(requests + 50):
            path, body = bodies[i % len(bodies)]
            started = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            conn.getresponse().read()
            if i >= 50:  # the first requests warm the guard's caches
                times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50 = times[len(times) // 2]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"hook serve, keep-alive, {requests} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="command-hook runs per event")
    parser.add_argument("--requests", type=int, default=500, help="HTTP requests")
    parser.add_argument("--audit", default="off", help="audit log file, or off")
    args = parser.parse_args()
    command_hook(args.runs, args.audit)
    http_hook(args.requests, args.audit)


if __name__ == "__main__":
    main()
