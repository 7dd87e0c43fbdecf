"""`tripwire hook serve`: events POSTed over keep-alive HTTP, answers in each agent's
format, refusals on every internal failure, loopback-only binds."""

import http.client
import json
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hook_fakes import ROOT, FakeAudit, FakeGuard, cli, cli_env, event_bytes

from tripwire._errors import ConfigError
from tripwire.guard import Guard
from tripwire.guard._hook_server import HookServer, check_bind


@pytest.fixture
def serve():
    servers = []

    def start(guard=None, audit=None, **kwargs):
        server = HookServer(("127.0.0.1", 0), guard=guard or Guard.default(), audit=audit, **kwargs)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server, http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def post(conn, path, data):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    conn.request("POST", path, body=raw, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


CLAUDE_PRE = {
    "hook_event_name": "PreToolUse",
    "tool_name": "Write",
    "tool_input": {"file_path": "/w/a.py"},
    "cwd": "/w",
    "session_id": "s",
}


@pytest.mark.parametrize(
    ("agent", "name", "expected"),
    [
        (
            "claude",
            "claude_pre_write_oversight.json",
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
        ),
        ("claude", "claude_pre_write_src.json", {}),
        (
            "claude",
            "claude_pre_mcp_delete_mail.json",
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "ask"}},
        ),
        (
            "codex",
            "codex_pre_apply_patch_monitor.json",
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
        ),
        (
            "codex",
            "codex_pre_mcp_trash_message.json",
            {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny"}},
        ),
        ("gemini", "gemini_before_write_file_system_prompt.json", {"decision": "deny"}),
        ("gemini", "gemini_before_replace_src.json", {"decision": "allow"}),
        ("cursor", "cursor_before_read_file.json", {"permission": "allow"}),
        ("cursor", "cursor_before_mcp_delete_email.json", {"permission": "ask"}),
    ],
)
def test_recorded_events_over_http(serve, agent, name, expected):
    _, conn = serve()
    status, answer = post(conn, f"/hook/{agent}", event_bytes(name))
    assert status == 200
    for key, value in expected.items():
        if isinstance(value, dict):
            assert {k: answer[key][k] for k in value} == value
        else:
            assert answer[key] == value
    # Refusals over HTTP carry their reason in the JSON (no exit code to carry it).
    if (
        expected.get("decision") == "deny"
        or expected.get("hookSpecificOutput", {}).get("permissionDecision") == "deny"
    ):
        text = answer.get("reason") or answer["hookSpecificOutput"]["permissionDecisionReason"]
        assert text.startswith("tripwire (")


def test_keep_alive_many_requests_one_connection(serve):
    guard = FakeGuard()
    server, conn = serve(guard=guard)
    for _ in range(50):
        assert post(conn, "/hook/claude", CLAUDE_PRE) == (200, {})
    assert len(guard.calls) == 50
    assert server.answered == 50


def test_audit_log_kept_open_and_every_decision_logged(serve):
    audit = FakeAudit()
    _, conn = serve(guard=FakeGuard("deny", rule="r", reason="because"), audit=audit)
    for _ in range(3):
        post(
            conn,
            "/hook/gemini",
            {
                "hook_event_name": "BeforeTool",
                "tool_name": "write_file",
                "tool_input": {},
                "cwd": "/w",
            },
        )
    assert [r["rule"] for _, r in audit.records] == ["r", "r", "r"]
    assert {r["source"] for _, r in audit.records} == {"hook:gemini"}
    assert not audit.closed


def test_concurrent_clients(serve):
    guard = FakeGuard()
    server, _ = serve(guard=guard, audit=FakeAudit())
    port = server.server_address[1]

    def client(_):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        return [post(conn, "/hook/claude", CLAUDE_PRE) for _ in range(20)]

    with ThreadPoolExecutor(8) as pool:
        results = [r for batch in pool.map(client, range(8)) for r in batch]
    assert results == [(200, {})] * 160
    assert len(guard.calls) == 160


def test_health(serve):
    _, conn = serve(audit=FakeAudit())
    conn.request("GET", "/health")
    response = conn.getresponse()
    health = json.loads(response.read())
    assert response.status == 200
    assert health["status"] == "ok"
    assert health["agents"] == ["claude", "codex", "gemini", "cursor"]
    assert health["audit"] is True


def test_unknown_paths_are_404_and_the_connection_goes_on(serve):
    _, conn = serve(guard=FakeGuard())
    status, answer = post(conn, "/hook/copilot", CLAUDE_PRE)
    assert status == 404
    assert "/hook/claude" in answer["error"]
    conn.request("GET", "/nope")
    response = conn.getresponse()
    assert response.status == 404
    response.read()
    assert post(conn, "/hook/claude", CLAUDE_PRE) == (200, {})


@pytest.mark.parametrize(
    ("agent", "refused"),
    [
        ("claude", lambda a: a["hookSpecificOutput"]["permissionDecision"] == "deny"),
        ("codex", lambda a: a["hookSpecificOutput"]["permissionDecision"] == "deny"),
        ("gemini", lambda a: a["decision"] == "deny"),
        ("cursor", lambda a: a["permission"] == "deny"),
    ],
)
def test_unreadable_body_is_a_refusal_in_the_agents_format(serve, agent, refused):
    guard = FakeGuard()
    _, conn = serve(guard=guard)
    status, answer = post(conn, f"/hook/{agent}", b"{not json")
    assert status == 200
    assert refused(answer)
    assert "hook:bad-event" in json.dumps(answer)
    assert guard.calls == []


def test_guard_crash_is_a_refusal(serve):
    _, conn = serve(guard=FakeGuard(raises=RuntimeError("boom")))
    status, answer = post(conn, "/hook/claude", CLAUDE_PRE)
    assert status == 200
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "RuntimeError: boom" in answer["hookSpecificOutput"]["permissionDecisionReason"]


def test_slow_guard_is_a_refusal(serve):
    _, conn = serve(guard=FakeGuard(delay=2.0), timeout=0.2)
    status, answer = post(
        conn,
        "/hook/cursor",
        {"hook_event_name": "beforeShellExecution", "command": "ls", "cwd": "/w"},
    )
    assert status == 200
    assert answer["permission"] == "deny"
    assert "hook:timeout" in answer["agent_message"]


def test_audit_failure_is_a_refusal(serve):
    _, conn = serve(guard=FakeGuard(), audit=FakeAudit(fail_append=OSError("disk full")))
    status, answer = post(
        conn,
        "/hook/gemini",
        {"hook_event_name": "BeforeTool", "tool_name": "read_file", "tool_input": {}, "cwd": "/w"},
    )
    assert status == 200
    assert answer["decision"] == "deny"
    assert "hook:audit" in answer["reason"]


def test_oversized_body_refused_unread(serve):
    guard = FakeGuard()
    _, conn = serve(guard=guard, max_event_bytes=1000)
    status, answer = post(
        conn, "/hook/claude", {**CLAUDE_PRE, "tool_input": {"content": "x" * 5000}}
    )
    assert status == 200
    assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "over the 1000-byte limit" in answer["hookSpecificOutput"]["permissionDecisionReason"]
    assert guard.calls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_binds_are_allowed(host):
    check_bind(host, allow_remote=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "no-such-host.invalid"])
def test_other_binds_need_allow_remote(host):
    with pytest.raises(ConfigError, match="--allow-remote"):
        check_bind(host, allow_remote=False)
    check_bind(host, allow_remote=True)


def test_cli_serve_refuses_a_public_bind():
    proc = cli(["hook", "serve", "--host", "0.0.0.0", "--port", "0", "--audit", "off"], stdin=None)
    assert proc.returncode == 2
    assert b"--allow-remote" in proc.stderr


def test_cli_serve_refuses_an_invalid_policy(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text("rules: 3\n")
    proc = cli(
        ["hook", "serve", "--port", "0", "--policy", str(policy), "--audit", "off"], stdin=None
    )
    assert proc.returncode == 2
    assert f"{policy}:1".encode() in proc.stderr


def test_cli_serve_answers_events():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tripwire", "hook", "serve", "--port", "0", "--audit", "off"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    try:
        banner = proc.stderr.readline().decode()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/hook/", banner).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        status, answer = post(conn, "/hook/claude", event_bytes("claude_pre_edit_settings.json"))
        assert status == 200
        assert answer["hookSpecificOutput"]["permissionDecision"] == "deny"
        assert "oversight-tamper" in answer["hookSpecificOutput"]["permissionDecisionReason"]
        assert post(conn, "/hook/gemini", event_bytes("gemini_before_replace_src.json")) == (
            200,
            {"decision": "allow"},
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
