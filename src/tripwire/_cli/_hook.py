"""`tripwire hook` and `tripwire hook serve`: the guard as a coding agent's tool-call hook.

Every tool call the agent makes pays this command's start-up, so it is argparse, not the
typer app, and imports nothing beyond the guard (`tripwire._cli.main` dispatches here
before loading typer, rich or inspect_ai).

```
tripwire hook [--agent claude|codex|gemini|cursor] [--policy FILE] [--audit FILE|off]
              [--timeout S]
tripwire hook serve [--host 127.0.0.1] [--port 8787] [--policy FILE] [--audit FILE|off]
                    [--timeout S] [--allow-remote]
```
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType
from typing import NoReturn

__all__ = ["hook_main"]

_AGENTS = ("claude", "codex", "gemini", "cursor")  # = tripwire.guard._hooks.AGENTS
_DEFAULT_TIMEOUT = 5.0  # = tripwire.guard._hook.DEFAULT_TIMEOUT
_MAX_EVENT_BYTES = 16 * 2**20  # = tripwire.guard._hook.MAX_EVENT_BYTES
_WATCHDOG_GRACE = 1.0  # beyond --timeout: start-up, reading stdin, writing the answer
_MAX_TIMEOUT = 86_400.0  # a day: no agent waits longer for a hook

# What the process-level watchdog writes if everything else hangs; replaced by the
# agent's own refusal once its format is loaded.
_last_resort: tuple[int, str, str] = (2, "", "tripwire hook: timed out; refused\n")


class _UsageError(Exception):
    """Bad command-line arguments (argparse would exit 2 with usage; we say why)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def hook_main(argv: list[str]) -> int:
    """Run `tripwire hook ...`; returns the process exit code."""
    if argv[:1] == ["serve"]:
        return _serve(argv[1:])
    return _run_once(argv)


def _run_once(argv: list[str]) -> int:
    """Answer the one event on stdin. Any failure is exit 2 with the reason on stderr."""
    try:
        args = _once_parser().parse_args(argv)
    except _UsageError as ex:
        sys.stderr.write(f"{ex}; the call is refused\n")
        return 2
    except SystemExit:  # --help
        return 2
    try:
        _arm_watchdog(args.timeout + _WATCHDOG_GRACE)
        from tripwire.guard._hook import command_answer, default_audit_path, refusal, run_hook
        from tripwire.guard._hooks import FORMATS

        overrun = refusal("hook:timeout", f"tripwire hook ran over {args.timeout:g} s")
        last = command_answer(FORMATS[args.agent].reply(overrun, None))
        _set_last_resort(last.exit_code, last.stdout, last.stderr)
        stdin = sys.stdin.buffer.read(args.max_event_bytes + 1)
        audit = None if args.audit == "off" else (args.audit or default_audit_path())
        answer = run_hook(
            stdin,
            agent=args.agent,
            policy_path=args.policy,
            audit_path=audit,
            timeout=args.timeout,
            max_event_bytes=args.max_event_bytes,
        )
        code, out, err = answer.exit_code, answer.stdout, answer.stderr
    except BaseException as ex:  # noqa: BLE001 - a hook that crashes must still refuse
        code, out, err = 2, "", f"tripwire hook failed ({type(ex).__name__}: {ex}); refused\n"
    # UTF-8 bytes whatever the locale: a reason with a non-ASCII path must not crash here.
    sys.stdout.buffer.write(out.encode("utf-8", "replace"))
    sys.stderr.buffer.write(err.encode("utf-8", "replace"))
    sys.stdout.flush()
    sys.stderr.flush()
    signal.setitimer(signal.ITIMER_REAL, 0)
    return code


def _once_parser() -> _Parser:
    parser = _Parser(
        prog="tripwire hook",
        description="Check one coding-agent tool call (the hook event on stdin) against a "
        "guard policy; answer in the agent's hook format. Anything that cannot be read or "
        "decided refuses the call.",
    )
    parser.add_argument("--agent", choices=_AGENTS, default="claude", help="hook format")
    parser.add_argument("--policy", help="policy YAML (default: the shipped default policy)")
    parser.add_argument(
        "--audit",
        help="audit log (JSONL) to record every decision in, or 'off' (default: "
        "$TRIPWIRE_HOOK_AUDIT, else ~/.local/state/tripwire/hook-audit.jsonl); a log that "
        "cannot be written refuses the call",
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        default=_DEFAULT_TIMEOUT,
        help="seconds before the call is refused (set the agent's hook timeout higher)",
    )
    parser.add_argument(
        "--max-event-bytes", type=int, default=_MAX_EVENT_BYTES, help=argparse.SUPPRESS
    )
    return parser


def _serve(argv: list[str]) -> int:
    """Serve hook events over HTTP until interrupted."""
    parser = _Parser(
        prog="tripwire hook serve",
        description="Answer hook events POSTed to /hook/<agent> (GET /health); the policy "
        "is loaded once and the audit log kept open.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8787, help="port (0: any free port)")
    parser.add_argument("--policy", help="policy YAML (default: the shipped default policy)")
    parser.add_argument("--audit", help="audit log (JSONL), or 'off' (default as for hook)")
    parser.add_argument("--timeout", type=_positive, default=_DEFAULT_TIMEOUT)
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on a non-loopback address (the endpoint has no authentication)",
    )
    try:
        args = parser.parse_args(argv)
    except _UsageError as ex:
        sys.stderr.write(f"error: {ex}\n")
        return 2
    from tripwire._errors import TripwireError
    from tripwire.guard._hook import default_audit_path, load_guard, open_audit
    from tripwire.guard._hook_server import make_server

    audit_path = None if args.audit == "off" else (args.audit or default_audit_path())
    try:
        server = make_server(
            args.host,
            args.port,
            guard_factory=lambda: load_guard(args.policy),
            audit_factory=(lambda: open_audit(audit_path)) if audit_path else None,
            timeout=args.timeout,
            allow_remote=args.allow_remote,
            policy_name=args.policy or "default",
        )
    except TripwireError as ex:
        sys.stderr.write(f"error: {ex}\n")
        return 2
    except Exception as ex:  # e.g. the audit log package or the port
        sys.stderr.write(f"error: cannot start the hook server: {type(ex).__name__}: {ex}\n")
        return 2
    host, port = str(server.server_address[0]), server.server_address[1]
    sys.stderr.write(
        f"tripwire hook serve: http://{host}:{port}/hook/<{'|'.join(_AGENTS)}> "
        f"(policy: {args.policy or 'default'}, audit: {audit_path or 'off'})\n"
    )
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    # `inf` (or 1e308) would overflow the watchdog's timer: a traceback, exit 1, which
    # agents treat as a hook error that lets the call through.
    if not 0 < value <= _MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 and at most {_MAX_TIMEOUT:g}, not {text}"
        )
    return value


def _arm_watchdog(seconds: float) -> None:
    """Kill the process with the last-resort refusal if it overruns, even in stdin."""

    def expire(signum: int, frame: FrameType | None) -> None:
        code, out, err = _last_resort
        os.write(1, out.encode("utf-8", "replace"))
        os.write(2, err.encode("utf-8", "replace"))
        os._exit(code)

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _set_last_resort(code: int, out: str, err: str) -> None:
    global _last_resort
    _last_resort = (code, out, err)
