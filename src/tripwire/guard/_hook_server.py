"""`tripwire hook serve`: the hook as a local HTTP endpoint, policy loaded once.

A command hook pays for a Python start and a policy load on every tool call; this server
pays once. Agents POST the same event JSON they would write to a command hook's stdin to
`/hook/<agent>` (Claude Code's `"type": "http"` hooks do so directly; Codex, Gemini CLI
and Cursor use a `curl ... || exit 2` command hook) and get the agent's JSON answer back.

Fail closed: every answer to a hook request is HTTP 200 with the agent's own refusal
when anything goes wrong inside (unreadable event, guard error, timeout, audit log
failure). The agent must still be told to block when the server cannot be reached at
all: Claude Code `onFailure: "block"`, Cursor `failClosed: true`, and `|| exit 2` after
curl for the command-hook agents (see docs/hooks.md).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tripwire._errors import ConfigError

from ._hook import (
    DEFAULT_TIMEOUT,
    MAX_EVENT_BYTES,
    AuditSink,
    GuardLike,
    decide_event,
    refusal,
)
from ._hooks import AGENTS, FORMATS, HookFormat, HookReply

__all__ = ["DEFAULT_PORT", "HookServer", "check_bind"]

DEFAULT_PORT = 8787
"""Where `tripwire hook serve` listens unless told otherwise (on 127.0.0.1)."""

_WORKERS = 16


class HookServer(ThreadingHTTPServer):
    """A threaded HTTP server answering hook events with one guard and one audit log.

    Example:
        ```python
        server = HookServer(("127.0.0.1", 0), guard=Guard.default(), audit=None)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ```
    """

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        guard: GuardLike,
        audit: AuditSink | None,
        timeout: float = DEFAULT_TIMEOUT,
        max_event_bytes: int = MAX_EVENT_BYTES,
        policy_name: str = "default",
    ) -> None:
        """Bind the server (call `check_bind` first to refuse non-loopback addresses).

        Args:
            address: (host, port); port 0 picks a free port (see `server_address`).
            guard: The guard, shared by all requests (checks are serialised).
            audit: The audit log, kept open; None for no audit log.
            timeout: Seconds a decision may take before the call is refused.
            max_event_bytes: Larger request bodies are refused unread.
            policy_name: Shown by `GET /health`.
        """
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.guard = guard
        self.audit = audit
        self.timeout_s = timeout
        self.max_event_bytes = max_event_bytes
        self.policy_name = policy_name
        self._check_lock = threading.Lock()
        self._audit_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="tripwire-hook")
        self.started = time.time()
        self.answered = 0

    def answer(self, raw: bytes, fmt: HookFormat) -> HookReply:
        """The agent's answer to one event. Never raises: failures are refusals."""
        started = time.monotonic()
        try:
            future = self._pool.submit(self._decide, raw, fmt, started)
            reply = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            why = f"the guard did not answer within {self.timeout_s:g} s"
            reply = fmt.reply(refusal("hook:timeout", why), None)
        except Exception as ex:
            reply = fmt.reply(refusal("hook:error", f"{type(ex).__name__}: {ex}"), None)
        self.answered += 1
        return reply

    def _decide(self, raw: bytes, fmt: HookFormat, started: float) -> HookReply:
        audit, lock = self.audit, self._audit_lock
        reply, _ = decide_event(
            raw,
            fmt,
            guard=lambda: self.guard,
            audit=(lambda: _LockedSink(audit, lock)) if audit is not None else None,
            started=started,
            max_event_bytes=self.max_event_bytes,
            lock=self._check_lock,
        )
        return reply

    def server_close(self) -> None:
        """Stop the workers and close the audit log."""
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        close = getattr(self.audit, "close", None)
        if callable(close):
            close()


class _LockedSink:
    """The shared audit log, one append at a time."""

    def __init__(self, sink: AuditSink, lock: threading.Lock) -> None:
        self._sink = sink
        self._lock = lock

    def append(self, kind: str, data: dict[str, Any]) -> Any:
        with self._lock:
            return self._sink.append(kind, data)


class _Handler(BaseHTTPRequestHandler):
    server: HookServer
    protocol_version = "HTTP/1.1"  # keep-alive: agents reuse the connection
    disable_nagle_algorithm = True  # else head and body wait on a delayed ACK (~40 ms)
    server_version = "tripwire-hook"

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        agent = _agent_of(self.path)
        fmt = FORMATS.get(agent) if agent else None
        if fmt is None:
            self._drain()
            known = ", ".join(f"/hook/{a}" for a in AGENTS)
            self._send(404, {"error": f"no hook endpoint {self.path!r}; use one of {known}"})
            return
        try:
            raw = self._body()
            reply = self.server.answer(raw, fmt) if raw is not None else _too_big(self, fmt)
        except Exception as ex:  # fail closed: still a refusal in the agent's format
            reply = fmt.reply(refusal("hook:error", f"{type(ex).__name__}: {ex}"), None)
            self.close_connection = True
        self._send(200, reply.body)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path.split("?")[0].rstrip("/") in ("/health", "/healthz"):
            server = self.server
            self._send(
                200,
                {
                    "status": "ok",
                    "agents": list(AGENTS),
                    "policy": server.policy_name,
                    "audit": server.audit is not None,
                    "answered": server.answered,
                    "uptime_s": round(time.time() - server.started, 1),
                },
            )
        else:
            self._send(404, {"error": "GET /health, or POST an event to /hook/<agent>"})

    def _body(self) -> bytes | None:
        """The request body, or None when it is over the limit (left unread)."""
        length_header = self.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else 0
        if length > self.server.max_event_bytes:
            self.close_connection = True  # the unread body must not be taken for a request
            return None
        return self.rfile.read(length) if length else b""

    def _drain(self) -> None:
        length_header = self.headers.get("Content-Length")
        length = int(length_header) if length_header and length_header.isdigit() else 0
        if 0 < length <= self.server.max_event_bytes:
            self.rfile.read(length)
        elif length:
            self.close_connection = True

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        """Quiet: every decision is in the audit log."""


def _too_big(handler: _Handler, fmt: HookFormat) -> HookReply:
    limit = handler.server.max_event_bytes
    why = f"the hook event is over the {limit}-byte limit; refused unread"
    return fmt.reply(refusal("hook:bad-event", why), None)


def _agent_of(path: str) -> str | None:
    parts = path.split("?")[0].strip("/").split("/")
    return parts[1] if len(parts) == 2 and parts[0] == "hook" else None


def check_bind(host: str, *, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless `allow_remote`.

    The endpoint has no authentication, and whoever can reach it can learn the policy's
    decisions (and fill the audit log).

    Raises:
        ConfigError: `host` is not a loopback address and `allow_remote` is False.
    """
    if allow_remote:
        return
    try:
        infos = socket.getaddrinfo(host, None)
        loopback = bool(infos) and all(
            ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos
        )
    except (OSError, ValueError):
        loopback = False
    if not loopback:
        raise ConfigError(
            f"refusing to serve hooks on {host!r}: it is not a loopback address, and the "
            "endpoint has no authentication; use --host 127.0.0.1, or pass --allow-remote "
            "behind a firewall you trust"
        )


def make_server(
    host: str,
    port: int,
    *,
    guard_factory: Callable[[], GuardLike],
    audit_factory: Callable[[], AuditSink] | None,
    timeout: float = DEFAULT_TIMEOUT,
    allow_remote: bool = False,
    policy_name: str = "default",
) -> HookServer:
    """Check the bind address, load the policy and open the audit log, then bind.

    Unlike a single hook run, start-up errors are raised (the operator is there to see
    them); while the server is down, the agents' own block-on-failure settings apply.

    Raises:
        ConfigError: A non-loopback host without `allow_remote`, or a bad policy
            (PolicyError).
        AuditError: The audit log cannot be opened.
    """
    check_bind(host, allow_remote=allow_remote)
    guard = guard_factory()
    audit = audit_factory() if audit_factory is not None else None
    return HookServer(
        (host, port), guard=guard, audit=audit, timeout=timeout, policy_name=policy_name
    )
