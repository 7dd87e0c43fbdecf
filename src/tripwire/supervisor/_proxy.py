"""The egress proxy of a supervised run: the sandbox's only way out to the network.

`tripwire guard run --allow-net HOST... -- <agent>` runs the agent in a network namespace
with nothing but loopback. Outside the sandbox the supervisor serves an `EgressProxy` on
a unix socket in a directory bind-mounted into the sandbox; inside, `FORWARDER_SCRIPT`
listens on TCP `127.0.0.1:<port>` and relays each connection to that socket, and the
agent's environment points at it (`proxy_env`). The agent reaches the allowed hosts
through HTTP `CONNECT` tunnels or absolute-URI requests, and nothing else.

Each request is first matched against the allowlist and then shown to the supervisor's
`on_request` callback (to audit it, and to refuse it when it carries a honeytoken), so a
request leaves only when both say yes. Plain-text tunnels are also shown to `on_data`.

```python
proxy = EgressProxy(["api.example.com", "*.pypi.org"], on_request=audit)
await proxy.start(run_dir / "egress.sock")
env = proxy_env(port)  # and start FORWARDER_SCRIPT on `port` inside the sandbox
...
await proxy.close()
```
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import stat
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel

from tripwire._errors import ConfigError, SandboxError

__all__ = [
    "CONNECT_TIMEOUT",
    "FORWARDER_SCRIPT",
    "MAX_HEAD_BYTES",
    "SCAN_BYTES",
    "EgressProxy",
    "EgressRequest",
    "EgressVerdict",
    "OnData",
    "OnRequest",
    "host_allowed",
    "proxy_env",
]

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
"""Seconds to resolve and connect to an origin before the client gets `504`."""

MAX_HEAD_BYTES = 64 * 1024
"""Largest request line plus headers; a longer head gets `431`."""

SCAN_BYTES = 64 * 1024
"""How much of a request body (`EgressRequest.head`) or of a plain-text tunnel's
client-to-server stream (`on_data`) the callbacks see."""

_HEAD_TIMEOUT = 60.0  # an idle client must not hold a connection (and a task) forever
_READ_BYTES = 64 * 1024
_TLS_HANDSHAKE = 0x16  # first byte of a TLS record carrying a handshake (ClientHello)
_UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the terminating NUL

# Headers meant for the proxy or for this one hop, not for the origin (RFC 9110 7.6.1).
# `Expect` goes too: the proxy answers `100-continue` itself before reading the body.
_HOP_HEADERS = frozenset(
    {
        "connection",
        "expect",
        "host",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "upgrade",
    }
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}


class EgressRequest(BaseModel, frozen=True):
    """One request from the sandbox, as the supervisor's `on_request` callback sees it."""

    method: str
    """The request method, upper case: `CONNECT` for a tunnel, else `GET`, `POST`, ..."""

    host: str
    """The destination host: lower case, no trailing dot, IPv6 without brackets."""

    port: int
    """The destination port (80 when an `http://` URL names none)."""

    url: str | None = None
    """The absolute URL of a plain HTTP request; None for `CONNECT`."""

    allowed: bool
    """Whether the allowlist (`--allow-net`) lets this host and port through. A request
    leaves only when this is true *and* the callback's verdict allows it."""

    head: str
    """What the client sent the proxy: the request line and headers, then (for a plain
    HTTP request) up to `SCAN_BYTES` of the body; decoded as UTF-8, errors replaced."""


class EgressVerdict(BaseModel, frozen=True):
    """The supervisor's answer to an `EgressRequest` or to `on_data`."""

    allow: bool
    """True lets the request through (if the allowlist also does); False refuses it."""

    reason: str = ""
    """Why it was refused; sent to the client in the `403` body."""


OnRequest = Callable[[EgressRequest], EgressVerdict]
"""Called for every request before any connection to the origin is made, on the proxy's
event loop (one call at a time, so keep it quick: the proxy waits for it)."""

OnData = Callable[[str, bytes], EgressVerdict]
"""Called with (host, everything the client sent so far, up to `SCAN_BYTES`) before each
piece of a plain-text (non-TLS) tunnel is forwarded; a refusal cuts the tunnel."""


class _Pattern(NamedTuple):
    host: str  # "*" for any name; ".example.com" for "*.example.com"; else exact
    port: int | None


class _Reply(Exception):
    """An error answer to the client, raised from anywhere in a request's handling."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Cut(Exception):
    """`on_data` refused a tunnel's data."""


class _Head(NamedTuple):
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    raw: bytes


class EgressProxy:
    """An HTTP proxy on a unix socket that lets the sandbox reach allowed hosts only.

    It speaks `CONNECT host:port` (a tunnel: bytes relayed both ways) and absolute-URI
    requests (`GET http://host/path`: one request per connection, sent to the origin
    with `Connection: close`, its response relayed back). Anything else gets `400`, a
    host the allowlist does not name `403`. It fails closed: a callback that raises
    refuses the request, and no error inside reaches the client as a traceback.

    Attributes:
        requests_allowed: Requests let through to their origin.
        requests_refused: Requests answered `403` (allowlist, callback, or a wildcard
            entry whose name resolved to a loopback or link-local address).
        requests_malformed: Requests answered `400` or `431`.
        tunnels_cut: Plain-text tunnels closed because `on_data` refused their data.
    """

    def __init__(
        self,
        allow: Iterable[str],
        *,
        on_request: OnRequest | None = None,
        on_data: OnData | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        """Check the allowlist; nothing listens until `start`.

        Args:
            allow: Host patterns (`--allow-net`): `example.com` (that host only),
                `*.example.com` (its subdomains), `*` (any host name), an IP address
                (IP addresses match only when listed; no wildcard covers them), each
                optionally with `:port` (`[::1]:8080` for IPv6).
            on_request: The supervisor's audit and veto, called for every request
                (allowed by the allowlist or not) before connecting. None obeys the
                allowlist alone.
            on_data: The scanner of plain-text tunnels; None relays them unscanned.
            connect_timeout: Seconds to resolve and connect to an origin.

        Raises:
            ConfigError: An allowlist entry is not a host pattern.
        """
        self.allow = tuple(allow)
        self._patterns = [_parse_pattern(entry) for entry in self.allow]
        self.on_request = on_request
        self.on_data = on_data
        self.connect_timeout = connect_timeout
        self.requests_allowed = 0
        self.requests_refused = 0
        self.requests_malformed = 0
        self.tunnels_cut = 0
        self.socket_path: Path | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, socket_path: str | os.PathLike[str]) -> None:
        """Listen on `socket_path` (replacing a stale socket there), mode 0o666.

        The agent may run under another uid than the supervisor, so anyone who can
        reach the socket's directory may connect: guard access with the directory.

        Raises:
            SandboxError: The socket cannot be created there.
        """
        path = Path(socket_path)
        if len(os.fsencode(path)) > _UNIX_PATH_MAX:
            raise SandboxError(
                f"the egress proxy socket path {str(path)!r} is {len(os.fsencode(path))} bytes, "
                f"over the unix socket limit of {_UNIX_PATH_MAX}: put the run directory "
                "somewhere with a shorter path (e.g. under /tmp)"
            )
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=path, limit=MAX_HEAD_BYTES
            )
            os.chmod(path, 0o666)
        except OSError as ex:
            raise SandboxError(
                f"could not create the egress proxy socket {str(path)!r}: {ex.strerror or ex}; "
                "check that its directory exists and is writable"
            ) from ex
        self.socket_path = path

    async def close(self) -> None:
        """Stop listening, end every open connection and remove the socket file."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self.socket_path is not None:
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.lstat(self.socket_path).st_mode):
                    os.unlink(self.socket_path)
            self.socket_path = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._answer(reader, writer)
        except asyncio.CancelledError:
            # `close` cancels open connections, and Python 3.11's streams log a cancelled
            # connection task as an error: end it quietly instead.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Handle one connection; errors become answers or debug logs, never exceptions."""
        try:
            await self._handle(reader, writer)
        except _Reply as reply:
            if reply.status == 403:
                self.requests_refused += 1
            elif reply.status in (400, 431):
                self.requests_malformed += 1
            logger.debug("egress proxy: %d %s", reply.status, reply.message)
            with contextlib.suppress(Exception):
                writer.write(_error_response(reply.status, reply.message))
                await writer.drain()
                await _linger(reader, writer)
        except Exception:
            logger.debug("egress proxy: connection failed", exc_info=True)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await _read_head(reader)
        if head is None:
            return
        if head.method == "CONNECT":
            host, port = _split_authority(head.target, default_port=None)
            request, wildcard = self._decide(head, host, port, url=None, body=b"")
            upstream = await self._connect(request, wildcard=wildcard)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await self._tunnel(host, reader, writer, upstream)
            return
        url, host, port, authority, path = _absolute_target(head.target)
        body = _body_pieces(reader, head.headers)
        try:
            if _header(head.headers, "expect").lower() == "100-continue" and _has_body(
                head.headers
            ):
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await writer.drain()
            # The callback sees the start of the body, so read that much before deciding.
            sent: list[bytes] = []
            seen = b""
            piece = await anext(body, None)
            while piece is not None:
                sent.append(piece[0])
                seen += piece[1]
                if len(seen) >= SCAN_BYTES:
                    break
                piece = await anext(body, None)
            request, wildcard = self._decide(head, host, port, url=url, body=seen[:SCAN_BYTES])
            up_reader, up_writer = await self._connect(request, wildcard=wildcard)
            up_writer.write(_origin_head(head, path, authority) + b"".join(sent))
            rest = body if piece is not None else None
            await self._exchange(rest, (up_reader, up_writer), writer)
        finally:
            await body.aclose()

    def _decide(
        self, head: _Head, host: str, port: int, *, url: str | None, body: bytes
    ) -> tuple[EgressRequest, bool]:
        """Ask the allowlist and the callback; raise `_Reply(403)` unless both allow.

        Returns:
            The request, and whether only a wildcard entry allowed it.
        """
        match = _match(self._patterns, host, port)
        request = EgressRequest(
            method=head.method,
            host=host,
            port=port,
            url=url,
            allowed=match is not None,
            head=(head.raw + body).decode("utf-8", errors="replace"),
        )
        verdict = EgressVerdict(allow=True)
        if self.on_request is not None:
            try:
                verdict = _checked(self.on_request(request))
            except Exception:
                logger.debug("egress proxy: on_request raised", exc_info=True)
                raise _Reply(
                    403, f"proxy error: the request to {host} was refused (fail closed)"
                ) from None
        if not verdict.allow:
            raise _Reply(403, f"refused {host}: {verdict.reason or 'refused by the supervisor'}")
        if match is None:
            raise _Reply(
                403,
                f"{host}:{port} is not on the allowlist; rerun with --allow-net {host} to allow it",
            )
        return request, match.host == "*" or match.host.startswith(".")

    async def _connect(
        self, request: EgressRequest, *, wildcard: bool
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Resolve and connect to the origin of an allowed request."""
        host, port = request.host, request.port
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                addresses = [str(info[4][0]) for info in infos]
                # A wildcard means "hosts out there", not this machine's own services: a
                # name that resolves to loopback must be listed by name to be reached.
                if wildcard and any(_internal(address) for address in addresses):
                    raise _Reply(
                        403,
                        f"{host} resolves to a loopback or link-local address, which a "
                        f"wildcard entry does not cover; rerun with --allow-net {host} "
                        "to allow it",
                    )
                self.requests_allowed += 1
                error: OSError | None = None
                for address in addresses:
                    try:
                        return await asyncio.open_connection(address, port)
                    except OSError as ex:
                        error = ex
                raise error or OSError(f"no address for {host}")
        except TimeoutError:
            raise _Reply(
                504, f"could not connect to {host}:{port} within {self.connect_timeout:g} s"
            ) from None
        except OSError as ex:
            raise _Reply(502, f"could not connect to {host}:{port}: {ex.strerror or ex}") from None

    async def _tunnel(
        self,
        host: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        up_reader, up_writer = upstream
        try:
            await _both(self._scanned_pump(host, reader, up_writer), _pump(up_reader, writer))
        except _Cut:
            self.tunnels_cut += 1
            logger.debug("egress proxy: tunnel to %s cut by on_data", host)
        finally:
            up_writer.close()

    async def _scanned_pump(
        self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Client to origin; the first `SCAN_BYTES` of a non-TLS stream go to `on_data`."""
        scanned = b""
        scanning = self.on_data is not None
        first = True
        while data := await reader.read(_READ_BYTES):
            if first:
                first = False
                scanning = scanning and data[0] != _TLS_HANDSHAKE
            if scanning and self.on_data is not None:
                scanned += data[: SCAN_BYTES - len(scanned)]
                try:
                    verdict = _checked(self.on_data(host, scanned))
                except Exception:
                    logger.debug("egress proxy: on_data raised", exc_info=True)
                    raise _Cut() from None
                if not verdict.allow:
                    raise _Cut()
                scanning = len(scanned) < SCAN_BYTES
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def _exchange(
        self,
        body: AsyncGenerator[tuple[bytes, bytes], None] | None,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        writer: asyncio.StreamWriter,
    ) -> None:
        """Send the rest of the body while relaying the response; end with the response."""
        up_reader, up_writer = upstream
        relayed = 0

        async def send_rest() -> None:
            await up_writer.drain()
            if body is not None:
                async for raw, _ in body:
                    up_writer.write(raw)
                    await up_writer.drain()

        async def receive() -> None:
            nonlocal relayed
            while data := await up_reader.read(_READ_BYTES):
                relayed += len(data)
                writer.write(data)
                await writer.drain()

        # The origin may answer (and close) before it has read the whole body, so the
        # exchange ends with the response, whatever the body's state.
        sender = asyncio.create_task(send_rest())
        receiver = asyncio.create_task(receive())
        try:
            pending: set[asyncio.Task[None]] = {sender, receiver}
            while receiver in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                # A malformed body ends the exchange; a failed write to the origin does
                # not (it may have answered and closed early), so its answer is relayed.
                if sender in done and isinstance(sender.exception(), _Reply):
                    break
        finally:
            for task in (sender, receiver):
                task.cancel()
            sent, received = await asyncio.gather(sender, receiver, return_exceptions=True)
            up_writer.close()
        if isinstance(received, Exception):
            raise received
        if isinstance(sent, _Reply) and not relayed:  # a 400 can still be the answer
            raise sent
        if isinstance(sent, Exception):
            logger.debug("egress proxy: sending the body failed: %r", sent)


def host_allowed(host: str, port: int, allow: Iterable[str]) -> bool:
    """Whether an allowlist lets `host:port` through (see `EgressProxy` for patterns).

    Raises:
        ConfigError: An allowlist entry is not a host pattern.
    """
    try:
        name = _normal_host(host)
    except ValueError:
        return False
    return _match([_parse_pattern(entry) for entry in allow], name, port) is not None


def proxy_env(port: int) -> dict[str, str]:
    """The agent's environment variables that send its traffic to the forwarder.

    Both spellings are set because tools disagree on which they read (curl ignores
    upper-case `HTTP_PROXY`; Go and Python read either).
    """
    url = f"http://127.0.0.1:{port}"
    env = {
        name: url
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")
    }
    env["all_proxy"] = url
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1"
    return env


def _checked(verdict: object) -> EgressVerdict:
    if not isinstance(verdict, EgressVerdict):
        raise TypeError(f"a callback returned {verdict!r}, not an EgressVerdict")
    return verdict


def _parse_pattern(entry: str) -> _Pattern:
    def bad(why: str) -> ConfigError:
        return ConfigError(
            f"--allow-net {entry!r}: {why}; use a host (example.com), its subdomains "
            "(*.example.com), any host (*) or an IP address, each optionally with :PORT"
        )

    text = entry.strip()
    port: int | None = None
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise bad("unclosed '['")
        if text[close + 1 :]:
            if not text[close + 1 :].startswith(":"):
                raise bad("unexpected text after ']'")
            port = _port(text[close + 2 :], bad)
        text = text[1:close]
    elif text.count(":") == 1:
        text, _, port_text = text.partition(":")
        port = _port(port_text, bad)
    if text == "*":
        return _Pattern("*", port)
    suffix = text.startswith("*.")
    if "*" in (text[2:] if suffix else text):
        raise bad("'*' may only stand alone or start the entry as '*.'")
    try:
        host = _normal_host(text[2:] if suffix else text)
    except ValueError as ex:
        raise bad(str(ex)) from None
    if suffix and _is_ip(host):
        raise bad("'*.' cannot stand before an IP address")
    return _Pattern("." + host if suffix else host, port)


def _port(text: str, bad: Callable[[str], ConfigError]) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise bad(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def _normal_host(host: str) -> str:
    """Lower case, no trailing dot, brackets off, IP addresses in canonical form.

    Raises:
        ValueError: Not a host name or IP address.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name.endswith(".") and not name.endswith(".."):
        name = name[:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    # The resolver takes "2130706433", "0x7f.1" or "127.1" for 127.0.0.1: treat those as
    # the IP literals they are, so that no wildcard entry matches them.
    if re.fullmatch(r"[0-9a-fx.]+", name) and re.match(r"[0-9]", name):
        with contextlib.suppress(OSError):
            return socket.inet_ntoa(socket.inet_aton(name))
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(f"{host!r} is not a host name or IP address")
    return name


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _match(patterns: list[_Pattern], host: str, port: int) -> _Pattern | None:
    """The first pattern naming `host` (normalised) and `port`, or None."""
    literal = _is_ip(host) or host == "localhost" or host.endswith(".localhost")
    for pattern in patterns:
        if pattern.port is not None and pattern.port != port:
            continue
        if pattern.host == host:
            return pattern
        # IP addresses and loopback names are reachable only when listed.
        if literal:
            continue
        if pattern.host == "*" or (pattern.host.startswith(".") and host.endswith(pattern.host)):
            return pattern
    return None


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast


async def _read_head(reader: asyncio.StreamReader) -> _Head | None:
    """The request line and headers, or None when the client sent nothing at all."""
    try:
        async with asyncio.timeout(_HEAD_TIMEOUT):
            raw = await reader.readuntil(b"\r\n\r\n")
    except TimeoutError:
        return None
    except asyncio.LimitOverrunError:
        raise _Reply(431, f"the request head is over {MAX_HEAD_BYTES} bytes") from None
    except asyncio.IncompleteReadError as ex:
        if ex.partial.strip():
            raise _Reply(400, "the request ended before its headers did") from None
        return None
    lines = raw[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise _Reply(400, f"not an HTTP request line: {lines[0][:200]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _Reply(400, f"unsupported HTTP version {version[:20]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.fullmatch(name) or "\0" in value:
            raise _Reply(400, f"malformed header line {line[:200]!r}")
        headers.append((name, value.strip()))
    return _Head(method.upper(), target, version, headers, raw)


def _header(headers: list[tuple[str, str]], name: str) -> str:
    values = [value for key, value in headers if key.lower() == name]
    return ", ".join(values)


def _has_body(headers: list[tuple[str, str]]) -> bool:
    length = _header(headers, "content-length")
    return bool(_header(headers, "transfer-encoding")) or (length not in ("", "0"))


def _split_authority(authority: str, *, default_port: int | None) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) as a normalised host and a port."""
    host, port_text = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        host, rest = authority[: close + 1], authority[close + 1 :]
        if close < 0 or (rest and not rest.startswith(":")):
            raise _Reply(400, f"malformed authority {authority[:200]!r}")
        port_text = rest[1:]
    elif ":" in authority:
        host, _, port_text = authority.rpartition(":")
    if not port_text:
        if default_port is None:
            raise _Reply(400, f"CONNECT needs host:port, got {authority[:200]!r}")
        port = default_port
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise _Reply(400, f"bad port in {authority[:200]!r}")
    try:
        return _normal_host(host), port
    except ValueError as ex:
        raise _Reply(400, str(ex)) from None


def _absolute_target(target: str) -> tuple[str, str, int, str, str]:
    """(url, host, port, authority for `Host:`, origin-form path) of an absolute URI."""
    parts = urlsplit(target)
    if parts.scheme.lower() != "http" or not parts.netloc:
        if parts.scheme.lower() == "https":
            why = "send https:// requests through a CONNECT tunnel"
        else:
            why = "this is a proxy: send CONNECT host:port or an absolute http:// URL"
        raise _Reply(400, f"cannot forward {target[:200]!r}: {why}")
    authority = parts.netloc.rpartition("@")[2]
    host, port = _split_authority(authority, default_port=80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return target, host, port, authority, path


def _origin_head(head: _Head, path: str, authority: str) -> bytes:
    """The request head as the origin gets it: origin-form target, one request only."""
    dropped = set(_HOP_HEADERS)
    for token in _header(head.headers, "connection").split(","):
        dropped.add(token.strip().lower())
    lines = [f"{head.method} {path} {head.version}", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in head.headers if name.lower() not in dropped]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _body_pieces(
    reader: asyncio.StreamReader, headers: list[tuple[str, str]]
) -> AsyncGenerator[tuple[bytes, bytes], None]:
    """The body as (bytes to forward, body data) pieces, framed as the headers say.

    Only the body is read: whatever the client sends after it is never forwarded, so a
    second request cannot ride on the first one's connection past `on_request`.
    """
    encoding = _header(headers, "transfer-encoding").lower()
    length = _header(headers, "content-length")
    if encoding and length:
        raise _Reply(400, "both Transfer-Encoding and Content-Length are set")
    if encoding:
        if encoding != "chunked":
            raise _Reply(400, f"unsupported Transfer-Encoding {encoding[:100]!r}")
        return _chunked(reader)
    if length and not length.isdigit():
        raise _Reply(400, f"bad Content-Length {length[:100]!r}")
    return _sized(reader, int(length or 0), "the request body is shorter than its Content-Length")


async def _sized(
    reader: asyncio.StreamReader, length: int, cut_short: str
) -> AsyncGenerator[tuple[bytes, bytes], None]:
    """`length` bytes of body, in pieces; `cut_short` is the 400's text if they end early."""
    while length > 0:
        data = await reader.read(min(length, _READ_BYTES))
        if not data:
            raise _Reply(400, cut_short)
        length -= len(data)
        yield data, data


async def _chunked(reader: asyncio.StreamReader) -> AsyncGenerator[tuple[bytes, bytes], None]:
    try:
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line.split(b";")[0].strip()
            if not re.fullmatch(rb"[0-9a-fA-F]{1,16}", size_text):
                raise _Reply(400, f"bad chunk size line {line[:100]!r}")
            size = int(size_text, 16)
            if size == 0:
                trailer = b""
                while (field := await reader.readuntil(b"\r\n")) != b"\r\n":
                    trailer += field
                    if len(trailer) > MAX_HEAD_BYTES:
                        raise _Reply(400, f"the trailer is over {MAX_HEAD_BYTES} bytes")
                yield line + trailer + b"\r\n", b""
                return
            yield line, b""
            async for piece in _sized(reader, size, "the request body ended inside a chunk"):
                yield piece
            if await reader.readexactly(2) != b"\r\n":
                raise _Reply(400, "a chunk is longer than its size")
            yield b"\r\n", b""
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        raise _Reply(400, "malformed chunked request body") from None


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then pass the half-close on."""
    while data := await reader.read(_READ_BYTES):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def _both(*coroutines: Coroutine[object, object, None]) -> None:
    """Run the two directions of a relay; the first failure ends both and is raised."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, _Cut):
            raise result
    for result in results:
        if isinstance(result, Exception):
            raise result


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what the client still sends, for a moment, before closing after an error.

    Closing a socket with unread input resets the connection, and the client may then
    lose the error answer it has not read yet (a `431` or a `403` cut off mid-upload).
    """
    if writer.can_write_eof():
        writer.write_eof()
    left = 1024 * 1024
    async with asyncio.timeout(1.0):
        while left > 0 and (data := await reader.read(_READ_BYTES)):
            left -= len(data)


def _error_response(status: int, message: str) -> bytes:
    one_line = " ".join(message.split())  # a callback's reason may have line breaks
    body = f"tripwire egress proxy: {one_line}\n".encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


FORWARDER_SCRIPT = r'''
"""tripwire egress forwarder: TCP 127.0.0.1:PORT -> the supervisor's unix socket."""
import errno
import os
import selectors
import socket
import sys
import time

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class Pipe(object):
    """One direction of a link: bytes read from src wait in buf until dst takes them."""

    def __init__(self, src, dst):
        self.src, self.dst, self.buf, self.eof, self.shut = src, dst, b"", False, False

    def done(self):
        return self.eof and not self.buf


class Link(object):
    def __init__(self, sel, tcp, unix):
        self.sel, self.socks = sel, (tcp, unix)
        self.pipes = (Pipe(tcp, unix), Pipe(unix, tcp))
        self.events = {}
        self.closed = False

    def on_event(self, sock, mask):
        if self.closed:  # its other socket's event came in the same batch
            return
        try:
            for pipe in self.pipes:
                if mask & READ and pipe.src is sock and not pipe.eof and not pipe.buf:
                    data = sock.recv(65536)
                    if data:
                        pipe.buf = data
                    else:
                        pipe.eof = True
                if mask & WRITE and pipe.dst is sock and pipe.buf:
                    pipe.buf = pipe.buf[sock.send(pipe.buf):]
                if pipe.done() and not pipe.shut:
                    pipe.shut = True
                    # Pass the half-close on: a client that stops sending still gets
                    # its answer.
                    pipe.dst.shutdown(socket.SHUT_WR)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.close()
            return
        if all(pipe.done() for pipe in self.pipes):
            self.close()
        else:
            self.update()

    def update(self):
        for sock in self.socks:
            events = 0
            for pipe in self.pipes:
                if pipe.src is sock and not pipe.eof and not pipe.buf:
                    events |= READ
                if pipe.dst is sock and pipe.buf:
                    events |= WRITE
            old = self.events.get(sock, 0)
            if events == old:
                continue
            if not old:
                self.sel.register(sock, events, self)
            elif not events:
                self.sel.unregister(sock)
            else:
                self.sel.modify(sock, events, self)
            self.events[sock] = events

    def close(self):
        if self.closed:
            return
        self.closed = True
        for sock in self.socks:
            if self.events.get(sock):
                self.sel.unregister(sock)
            sock.close()


def accept(sel, listener, path):
    while True:
        try:
            tcp, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as ex:
            if ex.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(0.05)  # out of descriptors: let open links finish first
                return
            raise
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            unix.settimeout(10)
            unix.connect(path)
            unix.setblocking(False)
            tcp.setblocking(False)
            tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            unix.close()
            tcp.close()
            continue
        Link(sel, tcp, unix).update()


def main():
    if len(sys.argv) != 3 or not sys.argv[1].isdigit():
        sys.stderr.write("usage: python3 -I -S -c FORWARDER_SCRIPT TCP_PORT UNIX_SOCKET\n")
        return 2
    port, path = int(sys.argv[1]), sys.argv[2]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
    except (OSError, OverflowError) as ex:
        sys.stderr.write("tripwire forwarder: cannot listen on 127.0.0.1:%s: %s\n"
                         % (sys.argv[1], getattr(ex, "strerror", None) or ex))
        return 1
    listener.setblocking(False)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    # Close the pipe so the supervisor's read of "ready" ends; keep fd 1 taken so that
    # no socket gets it.
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sel = selectors.DefaultSelector()
    sel.register(listener, READ, None)
    while True:
        for key, mask in sel.select():
            if key.data is None:
                accept(sel, listener, path)
            else:
                key.data.on_event(key.fileobj, mask)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
'''
"""A standalone Python 3 program (stdlib only) run inside the sandbox as
`python3 -I -S -c FORWARDER_SCRIPT <tcp_port> <unix_socket_path>`.

It listens on `127.0.0.1:<tcp_port>`, writes `ready` to stdout and closes it, then relays
each TCP connection to a new connection to the unix socket, both ways, in one thread (a
thread per connection would count against the sandbox's process and memory limits). It
exits 1 with one line on stderr when it cannot listen, and prints nothing else."""
