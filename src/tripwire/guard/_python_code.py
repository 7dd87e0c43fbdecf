"""Inline Python (`python3 -c`, `python3 - <<EOF`) to effects, read with `ast`.

Calls are resolved through the code's imports (`import os as o`, `from shutil import
rmtree`, `__import__('os')`, `getattr(os, 'system')`) and their arguments evaluated
when they are literal (strings, f-strings of known names, `+`, `os.path.join`,
`Path(a) / b`, `base64.b64decode('...')`, module-level assignments). Then:

- files: `open(p, 'w')` writes, `open(p)` reads; `pathlib.Path` and `os`/`shutil`
  functions write, delete, move, copy or re-permission;
- commands: `os.system`, `os.popen`, `subprocess.*` and `os.exec*` with a literal
  string or list are analysed as shell (unknown parts become unknown paths);
- network: `requests`, `urllib`, `http.client`, `socket`, `ftplib`, `smtplib` with a
  literal URL or host; a file read by code that also sends is a `copy` to that host;
- SQL: `sqlite3.connect(db)` then `.execute(sql)`;
- code the guard cannot see is `opaque`: `exec`/`eval`/`compile` of a non-literal,
  `__import__`, `getattr` or `importlib` with a computed name, or code that does not
  parse.
"""

from __future__ import annotations

import ast
import base64
import binascii
import codecs
import posixpath
import shlex
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CodeSink", "python_effects"]

UNKNOWN_WORD = "${__tripwire_unknown__}"
MAX_CODE_CHARS = 200_000


class CodeSink(Protocol):
    """Where the analysis reports (implemented by the shell analyser)."""

    def path(self, value: str | None) -> str | None:
        """`value` as an absolute path (None if unknown)."""
        ...

    def emit(self, kind: str, *, via: str, **fields: object) -> None:
        """Record an effect."""
        ...

    def shell(self, text: str | None, *, via: str, decoder: str | None) -> None:
        """Analyse shell text (None: a command the guard cannot see)."""
        ...

    def code(self, code: str | None, *, via: str, decoder: str | None) -> None:
        """Analyse nested Python code (None: code the guard cannot see)."""
        ...

    def sql(self, text: str | None, *, database: str | None, via: str) -> None:
        """Analyse SQL run against `database`."""
        ...


@dataclass(frozen=True)
class _Value:
    text: str | None
    """The string, or None if not known statically."""

    is_path: bool = False
    """The value is a `pathlib.Path` (so `.replace()` is a move, not str.replace)."""

    decoder: str | None = None
    """Set when the value came out of a decoder (`base64`, `hex`, `rot13`)."""


_UNKNOWN = _Value(None)

_WRITE_MODES = set("wax+")
_PATH_CLASSES = {"pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "pathlib.PurePosixPath"}
_SHELL_CALLS = {
    "os.system",
    "os.popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "commands.getoutput",
    "pty.spawn",
}
_SUBPROCESS = {
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
}
_DELETE = {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree"}
_MOVE = {"os.rename", "os.replace", "os.renames", "shutil.move"}
_COPY = {"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree"}
_PERMISSION = {"os.chmod", "os.lchmod", "os.chown", "os.lchown", "os.chflags", "shutil.chown"}
# os.utime only changes a file's times, but forging a heartbeat's mtime is a write.
_WRITE = {"os.truncate", "os.makedirs", "os.mkdir", "os.mkfifo", "os.mknod", "os.utime"}
_LINK = {"os.symlink", "os.link"}
_KILL = {"os.kill", "os.killpg"}
_EXEC_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
_DYNAMIC = {"exec", "eval", "compile", "builtins.exec", "builtins.eval"}
_URL_CALLS = {
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "request",
    "urlopen",
    "Request",
    "urlretrieve",
    "stream",
    "options",
}
_HOST_CLASSES = {
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "ftplib.FTP",
    "ftplib.FTP_TLS",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "telnetlib.Telnet",
    "poplib.POP3",
    "imaplib.IMAP4",
    "imaplib.IMAP4_SSL",
}
_SEND_METHODS = {
    "send",
    "sendall",
    "sendfile",
    "sendto",
    "post",
    "put",
    "patch",
    "storbinary",
    "storlines",
    "upload_file",
    "upload",
    "sendmail",
    "send_message",
    "request",
    "write",
}


def python_effects(code: str, sink: CodeSink) -> None:
    """Emit the effects of Python `code` to `sink` (see the module docstring)."""
    if len(code) > MAX_CODE_CHARS:
        sink.emit("opaque", program="python3", via=code[:200])
        return
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        sink.emit("opaque", program="python3", via=code[:200])
        return
    _Analysis(code, sink).run(tree)


class _Analysis:
    def __init__(self, code: str, sink: CodeSink) -> None:
        self.code = code
        self.sink = sink
        self.aliases: dict[str, str] = {}
        self.names: dict[str, _Value] = {}
        self.databases: dict[str, str | None] = {}
        self.last_database: str | None = None
        self.hosts: list[str | None] = []
        self.read_paths: list[str | None] = []
        self.sends = False

    def via(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.code, node) or ""
        return segment[:300] or self.code[:300]

    def run(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        # Statements in order, so names are bound before later calls use them.
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = self.value(node.value)
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.names[target.id] = value if target.id not in self.names else _UNKNOWN
                        if (
                            isinstance(node.value, ast.Call)
                            and self.qualname(node.value.func) == "sqlite3.connect"
                        ):
                            # Bound here, in the first pass: calls are visited later.
                            call_args = node.value.args
                            database = self.value(call_args[0]).text if call_args else None
                            self.databases[target.id] = database
            elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                self.names[node.optional_vars.id] = self.value(node.context_expr)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.call(node)
        if self.hosts and self.sends:
            for path in dict.fromkeys(self.read_paths):
                if path is not None:
                    for host in dict.fromkeys(self.hosts):
                        self.sink.emit("copy", source=path, host=host, via=self.code[:300])

    # --- names and values -----------------------------------------------------------------

    def qualname(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            func = self.qualname(node.func)
            if (
                func in ("__import__", "importlib.import_module", "builtins.__import__")
                and node.args
            ):
                module = self.value(node.args[0]).text
                if module is None:
                    self.sink.emit("opaque", program="python3", via=self.via(node))
                return module
            if func in ("getattr", "builtins.getattr") and len(node.args) >= 2:
                attr = self.value(node.args[1]).text
                base = self.qualname(node.args[0])
                if attr is None:
                    self.sink.emit("opaque", program="python3", via=self.via(node))
                    return None
                return f"{base}.{attr}" if base else None
        return None

    def value(self, node: ast.AST | None) -> _Value:
        if node is None:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return _Value(node.value)
            if isinstance(node.value, bytes):
                return _Value(node.value.decode("utf-8", "replace"))
            if isinstance(node.value, int) and not isinstance(node.value, bool):
                return _Value(str(node.value))
            return _UNKNOWN
        if isinstance(node, ast.Name):
            return self.names.get(node.id, _UNKNOWN)
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for item in node.values:
                part = self.value(item.value if isinstance(item, ast.FormattedValue) else item)
                if part.text is None:
                    return _UNKNOWN
                parts.append(part.text)
            return _Value("".join(parts))
        if isinstance(node, ast.BinOp):
            left, right = self.value(node.left), self.value(node.right)
            if left.text is None or right.text is None:
                return _UNKNOWN
            if isinstance(node.op, ast.Add):
                return _Value(left.text + right.text, decoder=left.decoder or right.decoder)
            if isinstance(node.op, ast.Div) and left.is_path:
                return _Value(posixpath.join(left.text, right.text), is_path=True)
            return _UNKNOWN
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            inner = self.value(node.value)
            step = node.slice.step
            if (
                inner.text is not None
                and isinstance(step, ast.UnaryOp)
                and node.slice.lower is None
                and node.slice.upper is None
            ):
                return _Value(inner.text[::-1], decoder="reversed")
            return _UNKNOWN
        if isinstance(node, ast.Call):
            return self.call_value(node)
        return _UNKNOWN

    def call_value(self, node: ast.Call) -> _Value:
        func = self.qualname(node.func)
        args = [self.value(a) for a in node.args]
        if func in _PATH_CLASSES or func in ("Path", "PurePath"):
            if args and all(a.text is not None for a in args):
                return _Value(
                    posixpath.join(*[a.text for a in args if a.text is not None]), is_path=True
                )
            return _Value(None, is_path=True)
        if (
            func in ("os.path.join", "posixpath.join")
            and args
            and all(a.text is not None for a in args)
        ):
            return _Value(posixpath.join(*[a.text for a in args if a.text is not None]))
        if (
            func
            in ("os.path.expanduser", "os.path.abspath", "os.path.normpath", "str", "os.fspath")
            and args
        ):
            return args[0]
        if (
            func
            in (
                "base64.b64decode",
                "base64.standard_b64decode",
                "base64.urlsafe_b64decode",
                "base64.decodebytes",
            )
            and args
        ):
            return _decode(args[0], "base64")
        if func in ("bytes.fromhex", "binascii.unhexlify", "binascii.a2b_hex") and args:
            return _decode(args[0], "hex")
        if (
            func == "codecs.decode"
            and len(args) >= 2
            and (args[1].text or "").replace("_", "") in ("rot13", "rot-13")
        ):
            return (
                _Value(codecs.decode(args[0].text, "rot13"), decoder="rot13")
                if args[0].text is not None
                else _UNKNOWN
            )
        if func in ("chr",) and args and args[0].text and args[0].text.isdigit():
            return _Value(chr(int(args[0].text) % 0x110000))
        if isinstance(node.func, ast.Attribute):
            owner = self.value(node.func.value)
            method = node.func.attr
            if (
                method
                in ("decode", "strip", "rstrip", "lstrip", "expanduser", "resolve", "absolute")
                and owner.text is not None
            ):
                return owner
            if (
                method == "join"
                and owner.text is not None
                and node.args
                and isinstance(node.args[0], (ast.List, ast.Tuple))
            ):
                items = [self.value(e) for e in node.args[0].elts]
                if all(i.text is not None for i in items):
                    return _Value(owner.text.join(i.text for i in items if i.text is not None))
            if (
                method == "joinpath"
                and owner.is_path
                and owner.text is not None
                and all(a.text is not None for a in args)
            ):
                return _Value(
                    posixpath.join(owner.text, *[a.text for a in args if a.text is not None]),
                    is_path=True,
                )
            if (
                method == "format"
                and owner.text is not None
                and all(a.text is not None for a in args)
            ):
                try:
                    return _Value(owner.text.format(*[a.text for a in args]))
                except (IndexError, KeyError, ValueError):
                    return _UNKNOWN
        return _UNKNOWN

    def shell_text(self, node: ast.AST) -> tuple[str | None, str | None]:
        """Shell text for a command argument: unknown parts become an unknown variable."""
        if isinstance(node, (ast.List, ast.Tuple)):
            words: list[str] = []
            for index, element in enumerate(node.elts):
                item = self.value(element)
                if item.text is None:
                    if index == 0:
                        return None, None
                    words.append(UNKNOWN_WORD)
                else:
                    words.append(shlex.quote(item.text))
            return " ".join(words), None
        value = self.value(node)
        if value.text is not None:
            return value.text, value.decoder
        if isinstance(node, ast.JoinedStr):
            parts: list[str] = []
            for piece in node.values:
                rendered = self.value(
                    piece.value if isinstance(piece, ast.FormattedValue) else piece
                )
                parts.append(rendered.text if rendered.text is not None else UNKNOWN_WORD)
            text = "".join(parts)
            return (None, None) if text.startswith(UNKNOWN_WORD) else (text, None)
        return None, None

    # --- calls ----------------------------------------------------------------------------

    def call(self, node: ast.Call) -> None:
        func = self.qualname(node.func)
        via = self.via(node)
        args = node.args
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if method in _SEND_METHODS and method != "write":
            self.sends = True
        if func is None and method is not None:
            self.method_call(node, method, via)
            return
        if func is None:
            return
        if func in ("open", "io.open", "codecs.open", "builtins.open"):
            self.open_call(node, via, mode_index=1)
        elif func in _SHELL_CALLS:
            text, decoder = self.shell_text(args[0]) if args else (None, None)
            self.sink.shell(text, via=via, decoder=decoder)
        elif func in _SUBPROCESS:
            target = args[0] if args else _keyword(node, "args")
            text, decoder = self.shell_text(target) if target is not None else (None, None)
            self.sink.shell(text, via=via, decoder=decoder)
        elif func.startswith(_EXEC_PREFIXES):
            list_arg = next((a for a in args if isinstance(a, (ast.List, ast.Tuple))), None)
            if list_arg is not None:
                text, decoder = self.shell_text(list_arg)
            else:
                text, decoder = self.shell_text(args[0]) if args else (None, None)
            self.sink.shell(text, via=via, decoder=decoder)
        elif func in _DYNAMIC:
            value = self.value(args[0]) if args else _UNKNOWN
            self.sink.code(value.text, via=via, decoder=value.decoder)
        elif func in _DELETE:
            self.file("delete", args[0] if args else None, via)
        elif func in _MOVE or func in _COPY:
            self.transfer(args, via, move=func in _MOVE)
        elif func in _PERMISSION:
            self.file("permission", args[0] if args else None, via)
        elif func in _WRITE:
            self.file("write", args[0] if args else None, via)
        elif func in _LINK:
            self.file("write", args[1] if len(args) > 1 else None, via)
        elif func in _KILL:
            # A pid read at run time is a target the guard cannot name, not no target.
            signalled = self.value(args[0]).text if args else None
            self.sink.emit("kill", target=signalled or "<unknown>", via=via)
        elif func == "os.open":
            flags = ast.get_source_segment(self.code, args[1]) if len(args) > 1 else ""
            writes = any(
                f in (flags or "") for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
            )
            self.file("write" if writes else "read", args[0] if args else None, via)
        elif func == "sqlite3.connect":
            database = self.value(args[0]).text if args else None
            self.last_database = database
        elif func in _HOST_CLASSES:
            self.network(self.value(args[0]).text if args else None, via, url=False)
        elif func in ("socket.create_connection",):
            self.address(args[0] if args else None, via)
        elif (
            func.rsplit(".", 1)[-1] in _URL_CALLS
            and func.split(".")[0]
            in (
                "requests",
                "httpx",
                "urllib",
                "aiohttp",
                "urllib3",
            )
            or func == "urllib.request.urlretrieve"
            or func.endswith(".urlretrieve")
        ):
            self.url_call(node, via)
        elif method is not None:
            self.method_call(node, method, via)

    def method_call(self, node: ast.Call, method: str, via: str) -> None:
        assert isinstance(node.func, ast.Attribute)
        owner_node = node.func.value
        owner = self.value(owner_node)
        args = node.args
        if owner.is_path:
            path = owner.text
            if method in (
                "write_text",
                "write_bytes",
                "touch",
                "mkdir",
                "symlink_to",
                "hardlink_to",
            ):
                self.file_value("write", path, via)
            elif method in ("read_text", "read_bytes"):
                self.file_value("read", path, via)
            elif method in ("unlink", "rmdir"):
                self.file_value("delete", path, via)
            elif method in ("chmod", "lchmod"):
                self.file_value("permission", path, via)
            elif method in ("rename", "replace") and args:
                dest = self.value(args[0]).text
                self.move_values(path, dest, via, move=True)
            elif method == "open":
                self.open_call(node, via, mode_index=0, path=path)
            return
        if method in ("execute", "executescript", "executemany") and args:
            owner_name = owner_node.id if isinstance(owner_node, ast.Name) else None
            database = self.databases.get(owner_name or "", self.last_database)
            self.sink.sql(self.value(args[0]).text, database=database, via=via)
        elif method == "connect" and args and isinstance(args[0], ast.Tuple):
            self.address(args[0], via)
        elif method in _URL_CALLS and args:
            url = self.value(args[1] if method == "request" and len(args) > 1 else args[0]).text
            if url is not None and "://" in url:
                self.url_call(node, via)

    def open_call(
        self,
        node: ast.Call,
        via: str,
        *,
        mode_index: int,
        path: str | None = None,
        has_path: bool = False,
    ) -> None:
        args = node.args
        if mode_index == 1:
            path_node = args[0] if args else _keyword(node, "file")
            path = self.value(path_node).text if path_node is not None else None
        mode_node = args[mode_index] if len(args) > mode_index else _keyword(node, "mode")
        if mode_node is None:
            mode = "r"
        else:
            mode_value = self.value(mode_node).text
            mode = mode_value if mode_value is not None else "w"  # unknown mode: assume it writes
        kind = "write" if _WRITE_MODES & set(mode) else "read"
        self.file_value(kind, path, via)

    def file(self, kind: str, node: ast.AST | None, via: str) -> None:
        self.file_value(kind, self.value(node).text if node is not None else None, via)

    def file_value(self, kind: str, value: str | None, via: str) -> None:
        path = self.sink.path(value)
        if kind == "read":
            self.read_paths.append(path)
        self.sink.emit(kind, path=path, via=via)

    def transfer(self, args: list[ast.expr], via: str, *, move: bool) -> None:
        source = self.value(args[0]).text if args else None
        dest = self.value(args[1]).text if len(args) > 1 else None
        self.move_values(source, dest, via, move=move)

    def move_values(self, source: str | None, dest: str | None, via: str, *, move: bool) -> None:
        source_path = self.sink.path(source)
        dest_path = self.sink.path(dest)
        self.sink.emit("read", path=source_path, via=via)
        if move:
            self.sink.emit("delete", path=source_path, via=via)
        self.sink.emit("write", path=dest_path, via=via)
        self.sink.emit("copy", source=source_path, path=dest_path, via=via)

    def url_call(self, node: ast.Call, via: str) -> None:
        url_node = node.args[0] if node.args else _keyword(node, "url")
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "request"
            and len(node.args) > 1
        ):
            url_node = node.args[1]
        value = self.value(url_node) if url_node is not None else _UNKNOWN
        if isinstance(url_node, ast.Call):  # urlopen(Request(url))
            inner = url_node.args[0] if url_node.args else None
            value = self.value(inner) if inner is not None else _UNKNOWN
        self.network(value.text, via, url=True)
        for keyword in node.keywords:
            if keyword.arg in ("data", "files", "json", "content"):
                self.sends = True
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("post", "put", "patch"):
            self.sends = True
        if (self.qualname(node.func) or "").endswith("urlretrieve") and len(node.args) > 1:
            self.file("write", node.args[1], via)

    def address(self, node: ast.AST | None, via: str) -> None:
        host = None
        if isinstance(node, ast.Tuple) and node.elts:
            host = self.value(node.elts[0]).text
        self.network(host, via, url=False)

    def network(self, target: str | None, via: str, *, url: bool) -> None:
        host = target
        if target is not None and url:
            from ._shell_net import host_of_url

            host = host_of_url(target)
        self.hosts.append(host)
        self.sink.emit("network", host=host, via=via)


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _decode(value: _Value, decoder: str) -> _Value:
    if value.text is None:
        return _Value(None, decoder=decoder)
    try:
        if decoder == "base64":
            compact = "".join(value.text.split())
            raw = base64.b64decode(compact + "=" * (-len(compact) % 4))
        else:
            raw = bytes.fromhex("".join(value.text.split()))
        return _Value(raw.decode("utf-8"), decoder=decoder)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return _Value(None, decoder=decoder)
