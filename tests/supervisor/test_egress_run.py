"""`--allow-net`: the agent reaches allowed hosts through the proxy, and nothing else."""

import http.server
import json
import threading
from pathlib import Path

import pytest
from supervised_helpers import agent_script, needs_sandbox, policy_with, supervise

pytestmark = needs_sandbox

FETCH = """
import json, os, urllib.request, urllib.error
# The test's origin listens on the host's loopback, which only the proxy reaches; the
# sandbox's own 127.0.0.1 is rightly exempt from the proxy.
os.environ.pop("no_proxy"); os.environ.pop("NO_PROXY")
out = {}
def get(name, url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=10) as r:
            out[name] = [r.status, r.read().decode()]
    except urllib.error.HTTPError as ex:
        out[name] = [ex.code, ex.read().decode()]
    except Exception as ex:
        out[name] = [0, type(ex).__name__]
PORT = PORT_NUMBER
get("allowed", f"http://127.0.0.1:{PORT}/hello")
get("other", "http://example.com/")
key = [l for l in open(os.path.expanduser("~/deploy/.env")) if "OPENAI" in l][0]
get("leak", f"http://127.0.0.1:{PORT}/x", {"Authorization": key.split("=", 1)[1].strip()})
json.dump(out, open("out.json", "w"))
"""


@pytest.fixture
def origin():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            body = f"hello from {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def test_allowed_host_only_and_no_credential_leaves(tmp_path, project, origin):
    policy = policy_with(
        """
        on_honeytoken: log
        decoys: [{kind: env, path: "~/deploy/.env"}]
        """
    )
    command = agent_script(project, FETCH.replace("PORT_NUMBER", str(origin)))
    summary, incidents, _ = supervise(
        tmp_path, project, command, policy=policy, egress=["127.0.0.1"]
    )
    out = json.loads((project / "out.json").read_text())
    assert out["allowed"] == [200, "hello from /hello"]
    assert out["other"][0] == 403 and "allowlist" in out["other"][1]
    assert out["leak"][0] == 403 and "planted credential" in out["leak"][1]
    assert summary.egress_allowed == 1 and summary.egress_refused == 2
    leaks = [i for i in incidents if "sent towards 127.0.0.1" in i.detail]
    assert len(leaks) == 1 and leaks[0].kind == "honeytoken"
    log = [json.loads(line) for line in Path(summary.audit_log).read_text().splitlines()]
    egress = [r["data"] for r in log if r["kind"] == "egress"]
    assert [(e["host"], e["allowed"]) for e in egress] == [
        ("127.0.0.1", True),
        ("example.com", False),
        ("127.0.0.1", False),
    ]


def test_no_network_without_allow_net(tmp_path, project, origin):
    command = agent_script(
        project,
        f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {origin}), timeout=3)
            open("out.txt", "w").write("connected")
        except OSError as ex:
            open("out.txt", "w").write(type(ex).__name__)
        """,
    )
    summary, _, _ = supervise(tmp_path, project, command)
    assert summary.status == "finished"
    assert (project / "out.txt").read_text() == "ConnectionRefusedError"
