"""The egress proxy over real sockets: allowlist, callbacks, answers to bad requests, and
the in-sandbox forwarder run by the system Python as the sandbox runs it."""

import asyncio
import http.client
import json
import os
import socket
import stat
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tripwire._errors import ConfigError
from tripwire.supervisor._proxy import (
    FORWARDER_SCRIPT,
    EgressProxy,
    EgressRequest,
    EgressVerdict,
    host_allowed,
    proxy_env,
)

HONEYTOKEN = "AKIAHONEYTOKEN7Q3XW9"
SYSTEM_PYTHON = "/usr/bin/python3"


class Origin:
    """An HTTP origin on 127.0.0.1 that answers each request with JSON of what it got.

    A stream whose first byte is 0x16 (as a TLS handshake's is) is echoed back instead.
    `?delay=S` in the path delays the answer by S seconds.
    """

    def __init__(self):
        self.connections = 0
        self.requests = []

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self):
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader, writer):
        self.connections += 1
        try:
            first = await reader.readexactly(1)
            if first == b"\x16":
                writer.write(first)
                while data := await reader.read(65536):
                    writer.write(data)
                return
            head = (first + await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            lines = head[:-4].split("\r\n")
            method, path, _ = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding") == "chunked":
                body = b""
                while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                    body += (await reader.readexactly(size + 2))[:-2]
                await reader.readuntil(b"\r\n")
            else:
                body = await reader.readexactly(int(headers.get("content-length", 0)))
            seen = {"method": method, "path": path, "headers": headers, "body": body.decode()}
            self.requests.append(seen)
            if "delay=" in path:
                await asyncio.sleep(float(path.split("delay=")[1]))
            payload = json.dumps(seen).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def origin():
    server = await Origin().start()
    yield server
    await server.close()


@pytest.fixture
async def other():
    """A second origin, on a port the allowlist does not name."""
    server = await Origin().start()
    yield server
    await server.close()


@pytest.fixture
def sock_dir():
    # Not tmp_path: a unix socket path must stay under 108 bytes.
    with tempfile.TemporaryDirectory(prefix="tw-proxy-", dir="/tmp") as path:
        yield Path(path)


@pytest.fixture
async def make_proxy(sock_dir, origin):
    proxies = []

    async def make(allow=None, **kwargs):
        proxy = EgressProxy([f"127.0.0.1:{origin.port}"] if allow is None else allow, **kwargs)
        await proxy.start(sock_dir / f"egress{len(proxies)}.sock")
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        await proxy.close()


async def send(proxy, data):
    """Send raw bytes to the proxy; (status, head, body) of its answer, read to the end."""
    reader, writer = await asyncio.open_unix_connection(proxy.socket_path)
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError:
        pass  # the proxy may answer (and stop reading) before the client is done
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), head.decode(), body.decode()


def get(port, path="/", headers="", body=b"", method="GET"):
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return (
        f"{method} http://127.0.0.1:{port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"{headers}{length}\r\n"
    ).encode() + body


def refuse_honeytoken(request: EgressRequest) -> EgressVerdict:
    if HONEYTOKEN in request.head:
        return EgressVerdict(allow=False, reason="a honeytoken credential is in the request")
    return EgressVerdict(allow=True)


# --- CONNECT ---------------------------------------------------------------------------


async def test_connect_to_an_allowed_host_opens_a_tunnel(make_proxy, origin):
    proxy = await make_proxy()
    reader, writer = await asyncio.open_unix_connection(proxy.socket_path)
    writer.write(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\n\r\n".encode())
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 200 Connection established\r\n\r\n"
    writer.write(b"GET /through HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["path"] == "/through"
    assert (proxy.requests_allowed, proxy.requests_refused) == (1, 0)


async def test_connect_to_a_host_off_the_allowlist_is_refused(make_proxy, other):
    proxy = await make_proxy()
    status, _, body = await send(proxy, f"CONNECT 127.0.0.1:{other.port} HTTP/1.1\r\n\r\n".encode())
    assert status == 403
    assert f"127.0.0.1:{other.port} is not on the allowlist" in body
    assert "--allow-net 127.0.0.1" in body
    assert body.count("\n") == 1
    assert other.connections == 0
    assert (proxy.requests_allowed, proxy.requests_refused) == (0, 1)


# --- absolute-URI requests -------------------------------------------------------------


async def test_absolute_uri_request_reaches_the_origin_with_its_body(make_proxy, origin):
    proxy = await make_proxy()
    request = get(
        origin.port,
        "/p?q=1",
        headers=(
            "X-Keep: yes\r\nProxy-Authorization: Basic eDp5\r\nProxy-Connection: keep-alive\r\n"
        ),
        body=b"hello origin",
        method="POST",
    )
    status, head, body = await send(proxy, request)
    assert status == 200, body
    seen = json.loads(body)
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/p?q=1", "hello origin")
    assert seen["headers"]["host"] == f"127.0.0.1:{origin.port}"
    assert seen["headers"]["connection"] == "close"
    assert seen["headers"]["x-keep"] == "yes"
    # Meant for the proxy, not passed on.
    assert "proxy-authorization" not in seen["headers"]
    assert "proxy-connection" not in seen["headers"]
    assert proxy.requests_allowed == 1


async def test_chunked_body_is_relayed(make_proxy, origin):
    proxy = await make_proxy()
    chunks = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    request = get(origin.port, "/c", headers="Transfer-Encoding: chunked\r\n") + chunks
    status, _, body = await send(proxy, request)
    assert status == 200
    assert json.loads(body)["body"] == "hello, world"


async def test_only_the_first_request_on_a_connection_is_forwarded(make_proxy, origin):
    proxy = await make_proxy()
    second = get(origin.port, "/second", headers=f"X-Token: {HONEYTOKEN}\r\n")
    status, _, body = await send(proxy, get(origin.port, "/first") + second)
    assert status == 200
    assert [seen["path"] for seen in origin.requests] == ["/first"]


async def test_absolute_uri_request_to_a_host_off_the_allowlist_is_refused(make_proxy, other):
    proxy = await make_proxy()
    status, head, body = await send(proxy, get(other.port, "/x"))
    assert status == 403
    assert "Connection: close" in head
    assert "--allow-net 127.0.0.1" in body
    assert other.connections == 0


async def test_large_body_is_relayed_whole(make_proxy, origin):
    proxy = await make_proxy()
    payload = b"x" * (200 * 1024)
    status, _, body = await send(proxy, get(origin.port, "/big", body=payload, method="PUT"))
    assert status == 200
    assert json.loads(body)["body"] == payload.decode()


async def test_expect_100_continue_is_answered_before_the_body(make_proxy, origin):
    proxy = await make_proxy()
    reader, writer = await asyncio.open_unix_connection(proxy.socket_path)
    writer.write(get(origin.port, "/e", headers="Expect: 100-continue\r\nContent-Length: 4\r\n"))
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"body")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    seen = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert seen["body"] == "body"
    assert "expect" not in seen["headers"]


async def test_unreachable_origin_is_502(make_proxy):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    proxy = await make_proxy(allow=["127.0.0.1"])
    status, _, body = await send(proxy, get(closed_port))
    assert status == 502
    assert f"could not connect to 127.0.0.1:{closed_port}" in body


# --- the supervisor's callbacks --------------------------------------------------------


async def test_on_request_sees_every_request_before_it_leaves(make_proxy, origin, other):
    seen = []

    def audit(request):
        seen.append(request)
        return EgressVerdict(allow=True)

    proxy = await make_proxy(on_request=audit)
    await send(proxy, get(origin.port, "/a", headers="X-Audit: 1\r\n", body=b"data", method="POST"))
    await send(proxy, f"CONNECT 127.0.0.1:{other.port} HTTP/1.1\r\n\r\n".encode())
    first, second = seen
    assert (first.method, first.host, first.port) == ("POST", "127.0.0.1", origin.port)
    assert first.url == f"http://127.0.0.1:{origin.port}/a"
    assert first.allowed
    assert first.head.startswith(f"POST http://127.0.0.1:{origin.port}/a HTTP/1.1\r\n")
    assert "X-Audit: 1\r\n" in first.head and first.head.endswith("\r\n\r\ndata")
    assert (second.method, second.port, second.url, second.allowed) == (
        "CONNECT",
        other.port,
        None,
        False,
    )
    # The callback cannot let through what the allowlist refuses.
    assert other.connections == 0


def token_in_header(port):
    return get(port, headers=f"Authorization: Bearer {HONEYTOKEN}\r\n")


def token_in_body(port):
    return get(port, body=f"key={HONEYTOKEN}".encode(), method="POST")


def token_split_across_chunks(port):
    head, tail = HONEYTOKEN[:9], HONEYTOKEN[9:]
    chunks = f"{len(head):x}\r\n{head}\r\n{len(tail):x}\r\n{tail}\r\n0\r\n\r\n"
    return get(port, headers="Transfer-Encoding: chunked\r\n", method="POST") + chunks.encode()


def token_in_connect(port):
    return f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nX-K: {HONEYTOKEN}\r\n\r\n".encode()


@pytest.mark.parametrize(
    "request_of", [token_in_header, token_in_body, token_split_across_chunks, token_in_connect]
)
async def test_honeytoken_in_a_request_is_refused_with_the_reason(make_proxy, origin, request_of):
    proxy = await make_proxy(on_request=refuse_honeytoken)
    status, _, body = await send(proxy, request_of(origin.port))
    assert status == 403
    assert "a honeytoken credential is in the request" in body
    assert origin.connections == 0
    assert proxy.requests_refused == 1
    # The same callback lets a clean request through.
    status, _, _ = await send(proxy, get(origin.port, body=b"key=nothing", method="POST"))
    assert status == 200


def raises(request):
    raise RuntimeError("audit log unavailable")


@pytest.mark.parametrize("broken", [raises, lambda request: None, lambda request: True])
async def test_a_broken_callback_refuses_the_request(make_proxy, origin, broken):
    proxy = await make_proxy(on_request=broken)
    status, _, body = await send(proxy, get(origin.port))
    assert status == 403
    assert "proxy error" in body
    assert "Traceback" not in body and "audit log unavailable" not in body
    assert origin.connections == 0


async def open_tunnel(proxy, port):
    reader, writer = await asyncio.open_unix_connection(proxy.socket_path)
    writer.write(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    return reader, writer


def scan(host, data):
    return EgressVerdict(allow=HONEYTOKEN.encode() not in data, reason="honeytoken")


async def test_plain_text_tunnel_is_cut_when_on_data_refuses(make_proxy, origin):
    scanned = []
    proxy = await make_proxy(on_data=lambda host, data: scanned.append(host) or scan(host, data))
    reader, writer = await open_tunnel(proxy, origin.port)
    # The token arrives in two pieces: the scan sees all the tunnel's data so far.
    writer.write(f"GET / HTTP/1.1\r\nAuthorization: Bearer {HONEYTOKEN[:6]}".encode())
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(f"{HONEYTOKEN[6:]}\r\n\r\n".encode())
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert origin.requests == []
    assert proxy.tunnels_cut == 1
    assert scanned and set(scanned) == {"127.0.0.1"}


async def test_plain_text_tunnel_without_a_token_is_relayed(make_proxy, origin):
    proxy = await make_proxy(on_data=scan)
    reader, writer = await open_tunnel(proxy, origin.port)
    writer.write(b"GET /clean HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["path"] == "/clean"
    assert proxy.tunnels_cut == 0


async def test_tls_tunnel_is_not_scanned(make_proxy, origin):
    called = []
    proxy = await make_proxy(on_data=lambda host, data: called.append(data) or scan(host, data))
    reader, writer = await open_tunnel(proxy, origin.port)
    hello = b"\x16\x03\x01" + HONEYTOKEN.encode()
    writer.write(hello)
    writer.write_eof()
    assert await asyncio.wait_for(reader.read(), 5) == hello  # the origin echoes it
    writer.close()
    assert called == []


async def test_on_data_that_raises_cuts_the_tunnel(make_proxy, origin):
    def broken(host, data):
        raise ValueError("scanner down")

    proxy = await make_proxy(on_data=broken)
    reader, writer = await open_tunnel(proxy, origin.port)
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert proxy.tunnels_cut == 1


# --- bad requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("HELLO\r\n\r\n", "not an HTTP request line"),
        ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "send CONNECT host:port or an absolute"),
        ("GET https://127.0.0.1:{port}/ HTTP/1.1\r\n\r\n", "CONNECT tunnel"),
        ("CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", "CONNECT needs host:port"),
        ("CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n", "bad port"),
        ("GET http://127.0.0.1:{port}/ HTTP/2.0\r\n\r\n", "unsupported HTTP version"),
        ("GET http://127.0.0.1:{port}/ HTTP/1.1\r\nno colon here\r\n\r\n", "malformed header"),
        ("GET http://exa mple.com/ HTTP/1.1\r\n\r\n", "not an HTTP request line"),
        ("GET http://bad_host!/ HTTP/1.1\r\n\r\n", "not a host name"),
        (
            "POST http://127.0.0.1:{port}/ HTTP/1.1\r\nContent-Length: 3\r\n"
            "Transfer-Encoding: chunked\r\n\r\nabc",
            "both Transfer-Encoding and Content-Length",
        ),
        (
            "POST http://127.0.0.1:{port}/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "bad Content-Length",
        ),
        (
            "POST http://127.0.0.1:{port}/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "bad chunk size",
        ),
    ],
)
async def test_malformed_request_is_400(make_proxy, origin, raw, says):
    proxy = await make_proxy()
    status, _, body = await send(proxy, raw.format(port=origin.port).encode())
    assert status == 400
    assert says in body
    assert origin.connections == 0
    assert proxy.requests_malformed == 1


async def test_body_malformed_past_what_the_callback_saw_is_400(make_proxy, origin):
    proxy = await make_proxy()
    big = 70 * 1024  # more than the callback sees, so the proxy has already connected
    chunks = f"{big:x}\r\n".encode() + b"x" * big + b"\r\nzz\r\n"
    request = get(origin.port, headers="Transfer-Encoding: chunked\r\n", method="POST")
    status, _, body = await send(proxy, request + chunks)
    assert status == 400
    assert "bad chunk size" in body
    assert origin.requests == []


async def test_oversized_head_is_431(make_proxy, origin):
    proxy = await make_proxy()
    status, _, body = await send(proxy, get(origin.port, headers=f"X-Big: {'a' * 70_000}\r\n"))
    assert status == 431
    assert origin.connections == 0


async def test_head_just_under_the_limit_is_accepted(make_proxy, origin):
    proxy = await make_proxy()
    status, _, _ = await send(proxy, get(origin.port, headers=f"X-Big: {'a' * 60_000}\r\n"))
    assert status == 200


async def test_client_that_hangs_up_at_once_leaves_no_error(make_proxy):
    proxy = await make_proxy()
    _, writer = await asyncio.open_unix_connection(proxy.socket_path)
    writer.close()
    await asyncio.sleep(0.05)
    assert (proxy.requests_allowed, proxy.requests_refused, proxy.requests_malformed) == (0, 0, 0)


# --- the allowlist ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "allow", "expected"),
    [
        ("example.com", 443, ["example.com"], True),
        ("EXAMPLE.com.", 443, ["example.com"], True),
        ("example.com", 443, ["Example.COM."], True),
        ("www.example.com", 443, ["example.com"], False),
        ("example.org", 443, ["example.com"], False),
        ("api.example.com", 443, ["*.example.com"], True),
        ("a.b.example.com", 80, ["*.example.com"], True),
        ("example.com", 443, ["*.example.com"], False),
        ("badexample.com", 443, ["*.example.com"], False),
        ("anything.net", 8080, ["*"], True),
        ("example.com", 443, ["example.com:443"], True),
        ("example.com", 80, ["example.com:443"], False),
        ("x.example.com", 8443, ["*.example.com:8443"], True),
        ("x.example.com", 443, ["*.example.com:8443"], False),
        ("x.net", 443, ["*:443"], True),
        ("x.net", 80, ["*:443"], False),
        # IP literals match only when listed; no wildcard covers them.
        ("127.0.0.1", 80, ["*"], False),
        ("127.0.0.1", 80, ["127.0.0.1"], True),
        ("127.0.0.1", 80, ["127.0.0.1:80"], True),
        ("127.0.0.1", 81, ["127.0.0.1:80"], False),
        ("10.0.0.1", 80, ["127.0.0.1"], False),
        ("2130706433", 80, ["*"], False),
        ("127.1", 80, ["*"], False),
        ("127.1", 80, ["127.0.0.1"], True),
        ("::1", 443, ["*"], False),
        ("[::1]", 443, ["::1"], True),
        ("::1", 443, ["[::1]:443"], True),
        ("0:0::1", 443, ["::1"], True),
        ("localhost", 80, ["*"], False),
        ("a.localhost", 80, ["*"], False),
        ("localhost", 80, ["localhost"], True),
        ("", 80, ["*"], False),
        ("bad host", 80, ["*"], False),
    ],
)
def test_host_allowed(host, port, allow, expected):
    assert host_allowed(host, port, allow) is expected


BAD_ENTRIES = ["", "exa*mple.com", "*.*.example.com", "*.127.0.0.1", "example.com:0", "[::1"]


@pytest.mark.parametrize("entry", [*BAD_ENTRIES, "example.com:http", "a b"])
def test_bad_allowlist_entry_is_a_config_error(entry):
    with pytest.raises(ConfigError, match="--allow-net"):
        EgressProxy([entry])


async def test_wildcard_does_not_reach_a_name_that_resolves_to_loopback(make_proxy, origin):
    name = socket.gethostname().lower()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(name, origin.port)}
    except OSError:
        pytest.skip("this machine's host name does not resolve")
    if not all(address.startswith("127.") for address in addresses):
        pytest.skip("this machine's host name does not resolve to loopback")
    request = f"GET http://{name}:{origin.port}/ HTTP/1.1\r\n\r\n".encode()
    status, _, body = await send(await make_proxy(allow=["*"]), request)
    assert status == 403
    assert "loopback" in body and f"--allow-net {name}" in body
    status, _, _ = await send(await make_proxy(allow=[name]), request)
    assert status == 200
    assert origin.connections == 1


# --- lifecycle and environment ---------------------------------------------------------


async def test_socket_is_world_writable_and_removed_on_close(sock_dir):
    proxy = EgressProxy(["example.com"])
    path = sock_dir / "p.sock"
    await proxy.start(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666
    await proxy.close()
    assert not path.exists()


async def test_close_ends_open_tunnels(make_proxy, origin):
    proxy = await make_proxy()
    reader, writer = await open_tunnel(proxy, origin.port)
    await proxy.close()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_too_long_socket_path_is_explained():
    proxy = EgressProxy([])
    with pytest.raises(Exception, match="shorter path"):
        await proxy.start("/tmp/" + "d" * 120 + "/p.sock")


def test_proxy_env_points_every_client_at_the_forwarder():
    env = proxy_env(3128)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        assert env[name] == "http://127.0.0.1:3128"
    assert env["NO_PROXY"] == "localhost,127.0.0.1"


# --- the forwarder ---------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def start_forwarder(port: int, socket_path) -> asyncio.subprocess.Process:
    """The forwarder as the sandbox runs it (stdout and stderr piped)."""
    return await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON,
        "-I",
        "-S",
        "-c",
        FORWARDER_SCRIPT,
        str(port),
        str(socket_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
async def forwarder(make_proxy):
    """(port, proxy): the forwarder, run as the sandbox runs it, in front of a proxy."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"{SYSTEM_PYTHON} is not installed")
    proxy = await make_proxy()
    port = free_port()
    process = await start_forwarder(port, proxy.socket_path)
    try:
        assert await asyncio.wait_for(process.stdout.read(), 5) == b"ready\n"  # then closed
        yield port, proxy
    finally:
        process.kill()
        await process.wait()
        assert await process.stderr.read() == b""


def fetch(proxy_port, url, data=None):
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy_port}"})
    )
    with opener.open(url, data=data, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(autouse=True)
def _no_proxy_bypass(monkeypatch):
    # urllib skips an explicit proxy for hosts in no_proxy.
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


async def test_request_through_forwarder_and_proxy_reaches_the_origin(forwarder, origin):
    port, proxy = forwarder
    url = f"http://127.0.0.1:{origin.port}/via-forwarder"
    status, seen = await asyncio.to_thread(fetch, port, url, b"payload")
    assert status == 200
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/via-forwarder", "payload")
    assert proxy.requests_allowed == 1


async def test_refusal_through_the_forwarder_reaches_the_client(forwarder, other):
    port, _ = forwarder
    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(fetch, port, f"http://127.0.0.1:{other.port}/")
    assert refused.value.code == 403
    assert b"--allow-net 127.0.0.1" in refused.value.read()


async def test_connect_tunnel_through_the_forwarder(forwarder, origin):
    port, _ = forwarder

    def tunnel():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.set_tunnel("127.0.0.1", origin.port)
        connection.request("GET", "/tunnelled")
        response = connection.getresponse()
        try:
            return json.loads(response.read())
        finally:
            connection.close()

    assert (await asyncio.to_thread(tunnel))["path"] == "/tunnelled"


async def test_forwarder_passes_a_half_close_on(forwarder, origin):
    port, _ = forwarder

    def exchange():
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1\r\n\r\n".encode())
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                head += client.recv(1)
            client.sendall(b"\x16 echo me")
            # The origin echoes until its input ends: only the half-close ends it.
            client.shutdown(socket.SHUT_WR)
            echoed = b""
            while data := client.recv(65536):
                echoed += data
            return head, echoed

    head, echoed = await asyncio.to_thread(exchange)
    assert head.startswith(b"HTTP/1.1 200")
    assert echoed == b"\x16 echo me"


async def test_forwarder_relays_concurrent_connections(forwarder, origin):
    port, proxy = forwarder
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    with ThreadPoolExecutor(10) as pool:
        results = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool, fetch, port, f"http://127.0.0.1:{origin.port}/r{i}?delay=0.5"
                )
                for i in range(10)
            )
        )
    elapsed = time.monotonic() - started
    assert sorted(seen["path"] for _, seen in results) == sorted(
        f"/r{i}?delay=0.5" for i in range(10)
    )
    assert elapsed < 3.0, f"10 requests of 0.5 s took {elapsed:.1f} s: not relayed in parallel"
    assert proxy.requests_allowed == 10


async def test_forwarder_that_cannot_listen_says_why(sock_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start_forwarder(port, sock_dir / "x.sock")
        stdout, stderr = await asyncio.wait_for(process.communicate(), 5)
    assert process.returncode != 0
    assert stdout == b""
    assert stderr.decode().count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in stderr.decode()
