"""Host-side bait for the escape suite: things an escaped agent would touch, and how to tell.

Every secret is a fresh random string placed where a sandboxed agent must not reach: a
file in a stand-in for the user's home, a file in another sample's tree, the harness's
environment, a descriptor the harness holds open, a process outside the sandbox (its
command line and environment), and the key of an audit log. A secret in any output the
agent saw is a leak. Files the agent must not change are hashed before and after;
listeners on the host's loopback (TCP, UDP, an abstract unix socket) count every contact.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tripwire.audit import AuditLog, load_or_create_key, verify_log
from tripwire.sandbox._config import BwrapConfig
from tripwire.sandbox._tree import SampleTree, traversable_temp_dir

__all__ = ["HostBait"]


def _secret(kind: str) -> str:
    return f"TWCANARY-{kind}-{secrets.token_hex(12)}"


class _Listener:
    """Counts contacts on one host socket (from a thread; closed with the bait)."""

    def __init__(self, family: int, kind: int, address: str | tuple[str, int]) -> None:
        self.sock = socket.socket(family, kind)
        self.sock.bind(address)
        if kind == socket.SOCK_STREAM:
            self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.contacts = 0
        self._stream = kind == socket.SOCK_STREAM
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                if self._stream:
                    conn, _ = self.sock.accept()
                    conn.close()
                else:
                    self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.contacts += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


class HostBait:
    """The host-side targets of one escape-suite run; use as a context manager.

    Attributes are the values attacks are written against (`fields()`); `leaks`,
    `changed_files`, `contacts` and `audit_problem` say what an attack reached.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tripwire-bait-", dir=traversable_temp_dir()))
        self.root.chmod(0o755)
        self.secrets: dict[str, str] = {}
        # A stand-in for the user's home (the real one is also tried by path).
        self.home = self.root / "home"
        self.home.mkdir()
        self.home_secret = self.home / "secrets.txt"
        self.home_secret.write_text(self._add("home") + "\n")
        # A world-writable host directory: the sandbox's own permissions would let any
        # uid write here, so only the sandbox's walls keep the agent out.
        self.outside = self.root / "outside"
        self.outside.mkdir()
        self.outside.chmod(0o777)
        self.outside_file = self.outside / "existing.txt"
        self.outside_file.write_text("host data\n")
        self.outside_file.chmod(0o666)
        # The run's record: a results file and an audit log with its key.
        self.results = self.root / "results.json"
        self.results.write_text('{"rows": []}\n')
        self.audit_key = self.root / "audit.key"
        key = load_or_create_key(self.audit_key)
        self.secrets["audit-key"] = key.hex()
        self.audit_path = self.root / "audit.jsonl"
        self.audit = AuditLog(self.audit_path, key=key, fsync="never", checkpoint_every=4)
        self._lock = threading.Lock()
        # Another sample's tree, with its own secret.
        self.other_tree = SampleTree(BwrapConfig())
        self.other_secret = self.other_tree.workdir / "other_sample_secret.txt"
        self.other_secret.write_text(self._add("other-sample") + "\n")
        # The harness's environment and an inheritable descriptor it holds.
        os.environ["TRIPWIRE_HOST_CANARY"] = self._add("environment")
        self._fd_file = self.root / "held_open.txt"
        self._fd_file.write_text(self._add("descriptor") + "\n")
        self.held_fd = os.open(self._fd_file, os.O_RDONLY)
        os.set_inheritable(self.held_fd, True)
        # A process outside the sandbox: the stand-in supervisor.
        marker = self._add("process")
        self.supervisor = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(3600)", marker],
            env={"PATH": "/usr/bin:/bin", "SUPERVISOR_SECRET": self._add("process-env")},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.tcp = _Listener(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0))
        self.udp = _Listener(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0))
        self.abstract_name = f"tripwire-bait-{secrets.token_hex(6)}"
        self.unix = _Listener(socket.AF_UNIX, socket.SOCK_STREAM, "\0" + self.abstract_name)
        # Names of files an escaped `touch` would leave on the host (harmless, removed).
        self.token = f"tripwire-escape-{secrets.token_hex(6)}"
        self.stray = [Path(d) / self.token for d in ("/", "/usr", "/etc", "/opt", "/tmp")]
        # Real host files an attacker goes for: recognised by their own lines.
        self._add_lines("shadow", [Path("/etc/shadow")])
        self._add_lines("checkout", sorted(p for p in Path.cwd().iterdir() if p.is_file())[:20])
        self._hashes = {path: _digest(path) for path in self.watched}

    def _add_lines(self, kind: str, paths: list[Path]) -> None:
        """Make the longest line of each readable file a secret (`kind`), when distinctive."""
        for path in paths:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            longest = max((line.strip() for line in lines), key=len, default="")
            if len(longest) >= 20:
                self.secrets[f"{kind}:{path.name}"] = longest[:200]

    def has_secret(self, kind: str) -> bool:
        """Whether the bait holds a secret of `kind` (`shadow`, `checkout`, ...)."""
        return any(name == kind or name.startswith(kind + ":") for name in self.secrets)

    def _add(self, kind: str) -> str:
        value = _secret(kind)
        self.secrets[kind] = value
        return value

    @property
    def watched(self) -> list[Path]:
        """Host files no attack may change."""
        return [self.home_secret, self.outside_file, self.results, self.audit_key]

    def fields(self) -> dict[str, str]:
        """The values attack commands are written with (`{name}` in a command)."""
        return {
            "home": str(self.home),
            "home_secret": str(self.home_secret),
            "real_home": str(Path.home()),
            "checkout": str(Path.cwd()),
            "outside": str(self.outside),
            "outside_file": str(self.outside_file),
            "results": str(self.results),
            "audit_log": str(self.audit_path),
            "audit_key": str(self.audit_key),
            "other_tree": str(self.other_tree.root),
            "other_secret": str(self.other_secret),
            "tree_parent": str(self.other_tree.root.parent),
            "held_fd": str(self.held_fd),
            "supervisor_pid": str(self.supervisor.pid),
            "supervisor_marker": self.secrets["process"],
            "tcp_port": str(self.tcp.port),
            "udp_port": str(self.udp.port),
            "abstract": self.abstract_name,
            "token": self.token,
        }

    def record(self, kind: str, data: dict[str, object]) -> None:
        """Append to the run's audit log (the harness's record of each attempt)."""
        with self._lock:
            self.audit.append(kind, data)
            self.audit.flush()

    def leaks(self, text: str) -> list[str]:
        """Which kinds of secret appear in `text` (what the agent saw)."""
        found = [name.partition(":")[0] for name, value in self.secrets.items() if value in text]
        return list(dict.fromkeys(found))

    def changed_files(self) -> list[str]:
        """Watched host files that changed, and files that appeared outside the sandbox."""
        changed = [str(p) for p, digest in self._hashes.items() if _digest(p) != digest]
        extra = {p.name for p in self.outside.iterdir()} - {self.outside_file.name}
        stray = [str(p) for p in self.stray if p.exists()]
        return changed + [str(self.outside / name) for name in sorted(extra)] + stray

    def contacts(self) -> dict[str, int]:
        """Contacts each host listener received."""
        return {"tcp": self.tcp.contacts, "udp": self.udp.contacts, "unix": self.unix.contacts}

    def supervisor_alive(self) -> bool:
        """Whether the process outside the sandbox is still running."""
        return self.supervisor.poll() is None

    def audit_problem(self) -> str | None:
        """What is wrong with the audit log, or None when it verifies."""
        with self._lock:
            self.audit.flush()
        report = verify_log(self.audit_path, key=bytes.fromhex(self.secrets["audit-key"]))
        return None if report.ok and not report.torn_tail else report.summary()

    def close(self) -> None:
        """Stop the listeners and the process, and delete every bait file."""
        for listener in (self.tcp, self.udp, self.unix):
            listener.close()
        self.supervisor.kill()
        self.supervisor.wait()
        with contextlib.suppress(OSError):
            os.close(self.held_fd)
        os.environ.pop("TRIPWIRE_HOST_CANARY", None)
        self.audit.close()
        self.other_tree.cleanup()
        for path in self.stray:
            with contextlib.suppress(OSError):
                path.unlink()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> HostBait:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as ex:
        return f"unreadable: {ex.strerror}"
