"""The runtime guard: a policy checked on every tool call before it runs.

```python
from tripwire.guard import Guard, GuardCall

guard = Guard.from_file("policy.yaml")  # or Guard.default()
decision = guard.check(GuardCall(tool="bash", arguments={"command": "rm -rf .git"}))
decision.action, decision.rule, decision.reason
```
"""

from ._call import GuardCall
from ._confirm import (
    AutoChannel,
    ConfirmAnswer,
    ConfirmChannel,
    ConfirmRequest,
    FileQueueChannel,
    TerminalChannel,
    answer_request,
    channel_from_spec,
    pending_requests,
)
from ._decision import SEVERITY, Action, Decision
from ._effects import Effect, EffectKind, SqlOp, SqlStatement
from ._engine import DEFAULT_POLICY, Guard, default_policy
from ._hook import HookAnswer, run_hook
from ._policy import DatabaseClasses, Policy, RateLimit, Rule, ToolNames, load_policy, parse_policy
from ._view import BlindView, FileView, HostView, MappedView, NamedView, sandbox_view

# SQL and shell parsing load on first use (sqlglot and bashlex cost start-up time, which
# every `tripwire hook` call pays): import `sql_effects`/`shell_effects` from their modules.
__all__ = [
    "AutoChannel",
    "ConfirmAnswer",
    "ConfirmChannel",
    "ConfirmRequest",
    "FileQueueChannel",
    "TerminalChannel",
    "answer_request",
    "channel_from_spec",
    "pending_requests",
    "DEFAULT_POLICY",
    "SEVERITY",
    "Action",
    "BlindView",
    "DatabaseClasses",
    "Decision",
    "Effect",
    "EffectKind",
    "FileView",
    "Guard",
    "GuardCall",
    "HookAnswer",
    "HostView",
    "MappedView",
    "NamedView",
    "Policy",
    "RateLimit",
    "Rule",
    "SqlOp",
    "SqlStatement",
    "ToolNames",
    "default_policy",
    "load_policy",
    "parse_policy",
    "run_hook",
    "sandbox_view",
]
