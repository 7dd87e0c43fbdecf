"""`--allow-net`: the egress proxy outside, its forwarder inside, and what they report.

The sandbox keeps its own network namespace (loopback only). The supervisor's proxy
listens on a unix socket in the read-only socket directory; a forwarder started inside
before the agent listens on 127.0.0.1:3128 and relays to it; the agent's environment
points HTTP(S)_PROXY there. Every request is audited; one carrying a decoy credential is
refused and trips like a decoy read. Killing the forwarder only cuts the agent off.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from tripwire._errors import ConfigError

from ._proxy import FORWARDER_SCRIPT, EgressProxy, EgressRequest, EgressVerdict, proxy_env

if TYPE_CHECKING:
    from ._supervisor import Supervisor

__all__ = ["EGRESS_PORT", "SANDBOX_PYTHON", "egress_command", "start_egress"]

EGRESS_PORT = 3128
"""The forwarder's port inside the sandbox (its own network namespace: always free)."""

SANDBOX_PYTHON = "/usr/bin/python3"
"""The interpreter that runs the forwarder (the host's, read-only in the sandbox)."""

_SOCKET_NAME = "egress.sock"

# Starts the forwarder, waits until it listens, then becomes the agent.
_LAUNCHER = """
import os, subprocess, sys
port, sock, script = sys.argv[1], sys.argv[2], sys.argv[3]
fwd = subprocess.Popen([sys.executable, "-I", "-S", "-c", script, port, sock],
                       stdout=subprocess.PIPE)
if fwd.stdout.read() != b"ready\\n":
    sys.exit("tripwire: the egress forwarder did not start; the agent was not run")
try:
    os.execvp(sys.argv[4], sys.argv[4:])
except OSError as ex:
    sys.exit(f"tripwire: cannot run {sys.argv[4]}: {ex.strerror}")
"""


def egress_command(command: list[str]) -> list[str]:
    """`command` preceded by the launcher that starts the forwarder first."""
    if not os.access(SANDBOX_PYTHON, os.X_OK):
        raise ConfigError(
            f"--allow-net runs a small forwarder with {SANDBOX_PYTHON} inside the sandbox, "
            "and this machine has none: install python3 from the system's packages"
        )
    socket = f"/run/tripwire/{_SOCKET_NAME}"
    return [
        SANDBOX_PYTHON,
        "-I",
        "-S",
        "-c",
        _LAUNCHER,
        str(EGRESS_PORT),
        socket,
        FORWARDER_SCRIPT,
        *command,
    ]


async def start_egress(supervisor: Supervisor) -> EgressProxy:
    """Start the proxy for `supervisor`'s run, wired to its audit log and incidents."""

    def leaked(text: str) -> str | None:
        return next((s for s in supervisor.decoy_secrets if s in text), None)

    def on_request(request: EgressRequest) -> EgressVerdict:
        secret = leaked(request.head)
        supervisor.audit_egress(request, refused_for=None if secret is None else "decoy")
        if secret is not None:
            supervisor.egress_leak(request.host, f"{request.method} {request.url or request.host}")
            return EgressVerdict(allow=False, reason="the request carries a planted credential")
        return EgressVerdict(allow=True)

    def on_data(host: str, data: bytes) -> EgressVerdict:
        if leaked(data.decode("utf-8", errors="replace")) is not None:
            supervisor.egress_leak(host, f"data sent to {host}")
            return EgressVerdict(allow=False, reason="the data carries a planted credential")
        return EgressVerdict(allow=True)

    proxy = EgressProxy(supervisor.egress, on_request=on_request, on_data=on_data)
    await proxy.start(supervisor.layout.socket_dir / _SOCKET_NAME)
    supervisor.layout.env.update(proxy_env(EGRESS_PORT))
    return proxy
