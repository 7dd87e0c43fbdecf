"""Supervised runs: any agent command in a sandbox, under a guard policy (SPEC §7).

```python
import asyncio
from pathlib import Path
from tripwire.guard import default_policy
from tripwire.supervisor import Supervisor

summary = asyncio.run(
    Supervisor(["python", "agent.py"], policy=default_policy(), workdir=Path(".")).run()
)
summary.status, summary.denied, summary.incidents
```

The command line is `tripwire guard run -- <command>`; `tripwire guard kill <run-id>`
stops a run from another terminal. See `docs/supervised-runs.md`.
"""

from ._models import Incident, IncidentKind, RunState, RunStatus, RunSummary
from ._runs import (
    RUNS_DIR_ENV,
    KillResult,
    default_runs_dir,
    kill_run,
    list_runs,
    read_state,
)
from ._supervisor import Supervisor

__all__ = [
    "RUNS_DIR_ENV",
    "Incident",
    "IncidentKind",
    "KillResult",
    "RunState",
    "RunStatus",
    "RunSummary",
    "Supervisor",
    "default_runs_dir",
    "kill_run",
    "list_runs",
    "read_state",
]
