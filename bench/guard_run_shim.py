"""What the shell shim adds to each command under `tripwire guard run`.

Inside one supervised run, an agent times the same commands two ways, interleaved so
machine noise hits both alike:
- through the shim (`/bin/sh -c CMD`: shim, supervisor, guard check, audit record,
  integrity check after the command, then the real shell);
- straight to the real shell the shim would run (`/opt/tripwire/real/dash -c CMD`),
  in the same sandbox: the baseline.

The difference is the shim's cost per command (target: at most 5 ms). Also printed: the
same baseline on the host, outside any sandbox. Run:
`.venv/bin/python bench/guard_run_shim.py [--runs 300]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tripwire.guard import default_policy  # noqa: E402
from tripwire.supervisor import Supervisor  # noqa: E402

COMMANDS = {
    "true": "true",
    "typical": "ls -la src > /dev/null && grep -c def src/app.py && cat notes.md",
}

AGENT = """
import json, subprocess, sys, time
runs = int(sys.argv[1])
commands = json.loads(sys.argv[2])
out = {}
for name, cmd in commands.items():
    shim, real = [], []
    for _ in range(runs):
        for argv, times in ((["/bin/sh", "-c", cmd], shim),
                            (["/opt/tripwire/real/dash", "-c", cmd], real)):
            t = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - t) * 1000)
    out[name] = {"shim": shim, "real": real}
json.dump(out, open("timings.json", "w"))
"""


def _host(cmd: str, runs: int, cwd: Path) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["/bin/dash", "-c", cmd], stdout=subprocess.DEVNULL, cwd=cwd, check=True)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _stats(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f"p50 {statistics.median(times):6.2f} ms  p99 {q[98]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        os.environ.setdefault("TRIPWIRE_AUDIT_KEY", str(base / "audit.key"))
        work = base / "work"
        (work / "src").mkdir(parents=True)
        (work / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n")
        (work / "notes.md").write_text("notes\n")
        (work / "agent.py").write_text(textwrap.dedent(AGENT))
        supervisor = Supervisor(
            ["/usr/bin/python3", "agent.py", str(args.runs), json.dumps(COMMANDS)],
            policy=default_policy(),
            workdir=work,
            runs_dir=base / "runs",
        )
        summary = asyncio.run(supervisor.run())
        if summary.status != "finished" or summary.exit_code != 0:
            sys.exit(f"the benchmark run did not finish: {summary.model_dump_json()}")
        timings = json.loads((work / "timings.json").read_text())
        print(f"{args.runs} runs per command, interleaved; {summary.allowed} shells allowed")
        for name, cmd in COMMANDS.items():
            shim, real = timings[name]["shim"], timings[name]["real"]
            host = _host(cmd, args.runs, work)
            added = [s - r for s, r in zip(shim, real, strict=True)]
            print(f"\n{name}: {cmd}")
            print(f"  host, no sandbox      {_stats(host)}")
            print(f"  sandbox, real shell   {_stats(real)}")
            print(f"  sandbox, through shim {_stats(shim)}")
            print(
                f"  added by the shim     p50 {statistics.median(added):6.2f} ms  "
                f"(ratio {statistics.median(shim) / statistics.median(real):.2f}x)"
            )


if __name__ == "__main__":
    main()
