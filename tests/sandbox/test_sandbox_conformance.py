"""Inspect's own conformance suite for sandbox providers, run on `bwrap` beside `local`.

`local` is the reference: `bwrap` must pass every check `local` passes here. The
checks that cannot apply are xfails, strictly (an xfail that starts passing fails), with
their reasons below.
"""

import os

import pytest
from inspect_ai.util._sandbox.local import LocalSandboxEnvironment
from inspect_ai.util._sandbox.self_check import *  # noqa: F403  (the checks are the tests)

from tripwire.sandbox import BwrapConfig, BwrapSandboxEnvironment

_ROOT = os.geteuid() == 0

_NO_NEW_USERS = (
    "the sandbox's accounts are fixed (agent, root, service) and its /etc is read-only, "
    "so `adduser` inside it cannot work"
)

KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "bwrap": {"test_exec_as_user": _NO_NEW_USERS},
    "bwrap-guarded": {"test_exec_as_user": _NO_NEW_USERS},
    "local": {
        "test_exec_as_user": "Inspect's local sandbox runs every command as the caller",
        "test_exec_timeout_not_raised_on_fast_signal_death": (
            "Inspect's local sandbox reports a signal death as -15, not the shell's 143"
        ),
        **(
            {
                name: "the local sandbox runs as root here, which file modes do not bar"
                for name in (
                    "test_read_file_not_allowed",
                    "test_write_text_file_without_permissions",
                    "test_write_binary_file_without_permissions",
                )
            }
            if _ROOT
            else {}
        ),
    },
}

# Inspect's local provider waits out the whole 30 s sleep in these (bwrap takes 9 s), so
# on `local` they are `slow` (tests/sandbox/conftest.py marks them).
SLOW_ON_LOCAL = ("test_exec_timeout_kills_process", "test_exec_timeout_kills_child_processes")

_PROVIDERS = {
    "bwrap": (BwrapSandboxEnvironment, BwrapConfig()),
    "bwrap-guarded": (BwrapSandboxEnvironment, BwrapConfig(guard="default")),
    "local": (LocalSandboxEnvironment, None),
}


@pytest.fixture(params=list(_PROVIDERS))
async def sandbox_env(request):
    reason = KNOWN_FAILURES[request.param].get(request.node.originalname)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    provider, config = _PROVIDERS[request.param]
    await provider.task_init("conformance", config)
    environments = await provider.sample_init("conformance", config, {})
    try:
        yield environments["default"]
    finally:
        await provider.sample_cleanup("conformance", config, environments, False)
