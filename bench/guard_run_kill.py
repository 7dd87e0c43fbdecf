"""How fast `tripwire guard run` stops a stubborn agent, per trigger.

The agent ignores SIGTERM and SIGHUP, forks three children that start new sessions and
fork again, starts a `sleep`, then pulls the trigger (or waits for `guard kill`). For
each trigger the time from the trigger to the last sandbox process gone is reported:
the supervisor's own measure (`kill_latency_ms`) and, for `guard kill`, the wall time
seen from the other terminal until no process of the sandbox's pid namespace is left.
Run: `.venv/bin/python bench/guard_run_kill.py [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tripwire.guard import default_policy  # noqa: E402
from tripwire.supervisor import Supervisor, kill_run  # noqa: E402

STUBBORN = """
import os, signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
for _ in range(3):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1000)
        time.sleep(1000)
subprocess.Popen(["sleep", "1000"])
time.sleep(0.3)
TRIGGER
open("ready", "w").write("1")
time.sleep(1000)
"""

TRIGGERS = {
    "guard kill": "",
    "kill decision": 'subprocess.run("cat ~/.aws/credentials", shell=True)',
    "decoy read": 'open(os.path.expanduser("~/.ssh/id_ed25519")).read()',
    "integrity": 'open("system_prompt.txt", "a").write("x")',
}


def _members(namespace: str) -> list[int]:
    """Host pids of the processes in one pid namespace (one sandbox)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns/pid") == namespace:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def _one(base: Path, name: str, trigger: str) -> tuple[float | None, float | None]:
    work = base / name.replace(" ", "-")
    work.mkdir()
    (work / "system_prompt.txt").write_text("goal\n")
    (work / "agent.py").write_text(textwrap.dedent(STUBBORN.replace("TRIGGER", trigger)))
    supervisor = Supervisor(
        ["/usr/bin/python3", "agent.py"],
        policy=default_policy(),
        workdir=work,
        runs_dir=base / "runs",
        timeout=60,
    )
    wall: list[float] = []
    if not trigger:

        def operator() -> None:
            while not (work / "ready").exists():
                time.sleep(0.01)
            namespace = os.readlink(f"/proc/{supervisor.state.sandbox_pid}/ns/pid")
            assert len(_members(namespace)) >= 8
            started = time.perf_counter()
            kill_run(base / "runs", supervisor.run_id)
            while _members(namespace):
                time.sleep(0.001)
            wall.append((time.perf_counter() - started) * 1000)

        threading.Thread(target=operator, daemon=True).start()
    summary = asyncio.run(supervisor.run())
    assert summary.status == "killed", summary
    return summary.kill_latency_ms, (wall[0] if wall else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ.setdefault("TRIPWIRE_AUDIT_KEY", str(base / "audit.key"))
        for name, trigger in TRIGGERS.items():
            own, wall = [], []
            for i in range(args.repeat):
                (base / str(i)).mkdir(exist_ok=True)
                latency, seen = _one(base / str(i), name, trigger)
                own.append(latency or 0.0)
                if seen is not None:
                    wall.append(seen)
            line = f"{name:14} supervisor: median {statistics.median(own):6.1f} ms, "
            line += f"max {max(own):6.1f} ms"
            if wall:
                line += f"; seen from the other terminal: median {statistics.median(wall):6.1f}"
                line += f" ms, max {max(wall):6.1f} ms"
            print(line)


if __name__ == "__main__":
    main()
