"""`tripwire hook`: recorded agent events through run_hook and the real CLI, each agent's
answer format, and every way the hook must fail closed."""

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest
from hook_fakes import EVENTS, ROOT, FakeAudit, FakeGuard, cli, cli_env, event_bytes, event_dict

from tripwire._errors import PolicyError
from tripwire.guard._hook import ARGUMENTS_LOG_CHARS, run_hook
from tripwire.guard._hooks import FORMATS

HAS_SHELL = importlib.util.find_spec("tripwire.guard._shell") is not None
needs_shell = pytest.mark.skipif(
    not HAS_SHELL, reason="the shell parser (tripwire.guard._shell) is not merged yet"
)


def run(data, agent="claude", guard=None, audit=None, **kwargs):
    """run_hook with a fake guard (default: allow) and audit log (default: none)."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    guard = guard if guard is not None else FakeGuard()
    return run_hook(
        raw,
        agent=agent,
        policy_path=kwargs.pop("policy_path", None),
        audit_path=kwargs.pop("audit_path", "audit.jsonl" if audit is not None else None),
        load_guard=kwargs.pop("load_guard", lambda _path: guard),
        open_audit=kwargs.pop("open_audit", lambda _path: audit),
        **kwargs,
    )


def body(answer):
    assert answer.stderr == ""
    return json.loads(answer.stdout)


CLAUDE_DENY = "tripwire (oversight-tamper)"


# Each recorded event under the shipped default policy: (file, exit code, JSON answer on
# stdout or None, text that must be on stderr). Expected answers are written out per
# format, not computed, so a format that drifts fails here.
RECORDED = [
    ("claude_pre_write_oversight.json", 2, None, CLAUDE_DENY),
    ("claude_pre_edit_settings.json", 2, None, CLAUDE_DENY),
    ("claude_pre_write_src.json", 0, {}, ""),
    ("claude_pre_multiedit_src.json", 0, {}, ""),
    ("claude_pre_notebookedit.json", 0, {}, ""),
    ("claude_pre_read.json", 0, {}, ""),
    ("claude_pre_grep.json", 0, {}, ""),
    ("claude_pre_webfetch.json", 0, {}, ""),
    ("claude_pre_bash_rm_git.json", 2, None, "tripwire ("),
    pytest.param("claude_pre_bash_pytest.json", 0, {}, "", marks=needs_shell),
    (
        "claude_pre_mcp_delete_mail.json",
        0,
        {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "ask",
                "permissionDecisionReason": 'tripwire (delete-mail-tool): needs a human\'s confirmation: Deleting mail or messages cannot be undone; a human must confirm. [call: {"thread_id": "18c2f1a9b7e4d3c0", "permanent": true}]',
            }
        },
        "",
    ),
    (
        "claude_post_write_oversight.json",
        0,
        {
            "decision": "block",
            "reason": "tripwire (oversight-tamper): Oversight, monitoring and audit configuration is not the agent's to change; ask a human if it is wrong. [write: Write /home/dev/shop/config/oversight.yaml] (this call already ran; the policy would have refused it)",
        },
        "",
    ),
    ("claude_post_read.json", 0, {}, ""),
    ("codex_pre_apply_patch_monitor.json", 2, None, "tripwire (oversight-tamper)"),
    ("codex_pre_apply_patch_src.json", 0, {}, ""),
    (
        "codex_pre_mcp_trash_message.json",
        2,
        None,
        "tripwire (delete-mail-tool): needs a human's confirmation",
    ),
    pytest.param("codex_pre_bash_git_status.json", 0, {}, "", marks=needs_shell),
    pytest.param("codex_post_bash.json", 0, {}, "", marks=needs_shell),
    ("gemini_before_write_file_system_prompt.json", 2, None, "tripwire (goals-tamper)"),
    ("gemini_before_replace_src.json", 0, {"decision": "allow"}, ""),
    pytest.param(
        "gemini_before_run_shell_npm_test.json", 0, {"decision": "allow"}, "", marks=needs_shell
    ),
    (
        "gemini_after_write_file_goals.json",
        0,
        {
            "decision": "deny",
            "reason": "tripwire (goals-tamper): System prompts and goals (yours or a successor's) are not the agent's to change. [write: write_file /home/dev/shop/agent/goals.yaml] (this call already ran; its output is withheld)",
        },
        "",
    ),
    ("cursor_before_read_file.json", 0, {"permission": "allow"}, ""),
    pytest.param("cursor_before_shell_ls.json", 0, {"permission": "allow"}, "", marks=needs_shell),
    ("cursor_after_file_edit_scoring.json", 0, {}, ""),
]


@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize(("name", "code", "stdout", "stderr"), RECORDED)
def test_recorded_events_default_policy(name, code, stdout, stderr, via):
    agent = name.split("_")[0]
    if via == "api":
        answer = run_hook(event_bytes(name), agent=agent, policy_path=None, audit_path=None)
        got = (answer.exit_code, answer.stdout, answer.stderr)
    else:
        proc = cli(["hook", "--agent", agent, "--audit", "off"], stdin=event_bytes(name))
        got = (proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert got[0] == code, got
    if stdout is None:
        assert got[1] == ""
    else:
        assert json.loads(got[1]) == stdout
    assert stderr in got[2]
    if code == 0:
        assert got[2] == ""


@pytest.mark.parametrize(
    ("name", "rule_prefix"),
    [
        ("cursor_before_shell_rm_git.json", "tripwire ("),
        ("cursor_before_mcp_delete_email.json", "tripwire (delete-mail-tool)"),
    ],
)
def test_recorded_cursor_refusals_are_json_on_exit_0(name, rule_prefix):
    answer = run_hook(event_bytes(name), agent="cursor", policy_path=None, audit_path=None)
    reply = body(answer)
    assert answer.exit_code == 0
    assert reply["permission"] == ("ask" if "mcp" in name else "deny")
    for key in ("user_message", "agent_message", "userMessage", "agentMessage"):
        assert reply[key].startswith(rule_prefix)


@pytest.mark.parametrize(
    ("name", "tool", "arguments", "cwd", "session"),
    [
        (
            "claude_pre_write_src.json",
            "Write",
            event_dict("claude_pre_write_src.json")["tool_input"],
            "/home/dev/shop",
            "5f0c7a52-8d1e-4d7b-9a3e-2b6f1c0e9d41",
        ),
        (
            "claude_pre_mcp_delete_mail.json",
            "mcp__gmail__delete_thread",
            {"thread_id": "18c2f1a9b7e4d3c0", "permanent": True},
            "/home/dev/shop",
            "5f0c7a52-8d1e-4d7b-9a3e-2b6f1c0e9d41",
        ),
        (
            "codex_pre_bash_git_status.json",
            "Bash",
            {"command": "git status --short"},
            "/home/dev/shop",
            "0199a213-81c0-7800-8aa1-bbab2a035a53",
        ),
        (
            "gemini_before_run_shell_npm_test.json",
            "run_shell_command",
            {
                "command": "npm test -- --silent",
                "description": "Run the test suite",
                "directory": ".",
            },
            "/home/dev/shop",
            "a7d4e0b2-3c91-4f5e-8b26-9e1d7c4a0f38",
        ),
        (
            "cursor_before_shell_ls.json",
            "shell",
            {"command": "ls -la src"},
            "/home/dev/shop",
            "6e1b8f2a-94c3-4d07-b5e2-0f7a3c9d1e84",
        ),
        (
            "cursor_before_read_file.json",
            "read_file",
            {"file_path": "/home/dev/shop/src/shop/cart.py"},
            "/home/dev/shop",
            "6e1b8f2a-94c3-4d07-b5e2-0f7a3c9d1e84",
        ),
        (
            "cursor_before_mcp_delete_email.json",
            "mcp__mail-mcp__delete_email",
            {"email_id": "msg-4411", "mailbox": "INBOX"},
            "/home/dev/shop",
            "6e1b8f2a-94c3-4d07-b5e2-0f7a3c9d1e84",
        ),
    ],
)
def test_events_become_faithful_guard_calls(name, tool, arguments, cwd, session):
    agent = name.split("_")[0]
    event = FORMATS[agent].parse(event_dict(name))
    assert event.call.tool == tool
    assert event.call.arguments == arguments
    assert event.call.cwd == cwd
    assert event.call.session == session
    assert event.call.source == f"hook:{agent}"


def test_codex_apply_patch_keeps_its_command_and_adds_the_patch():
    event = FORMATS["codex"].parse(event_dict("codex_pre_apply_patch_monitor.json"))
    assert event.call.arguments["command"] == event.call.arguments["patch"]
    assert "deploy/monitoring.yaml" in event.call.arguments["patch"]


@pytest.mark.parametrize(
    ("agent", "event", "kind"),
    [
        ("claude", "PreToolUse", "pre"),
        ("claude", "PostToolUse", "post"),
        ("claude", "PostToolUseFailure", "post"),
        ("codex", "PostToolUse", "post"),
        ("gemini", "BeforeTool", "pre"),
        ("gemini", "AfterTool", "post"),
    ],
)
def test_event_kinds(agent, event, kind):
    data = {"hook_event_name": event, "tool_name": "Read", "tool_input": {}, "cwd": "/w"}
    assert FORMATS[agent].parse(data).kind == kind


# --- Each format's answer to each action (fake guard) ------------------------------------

PRE = {
    "claude": {
        "hook_event_name": "PreToolUse",
        "tool_name": "Write",
        "tool_input": {"file_path": "/w/a"},
        "cwd": "/w",
    },
    "codex": {
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "cwd": "/w",
        "turn_id": "t",
    },
    "gemini": {
        "hook_event_name": "BeforeTool",
        "tool_name": "write_file",
        "tool_input": {"file_path": "/w/a"},
        "cwd": "/w",
    },
    "cursor": {"hook_event_name": "beforeShellExecution", "command": "ls", "cwd": "/w"},
}
REASON = "tripwire (r): because"
ASK = "tripwire (r): needs a human's confirmation: because"
CURSOR_MESSAGES = {
    "user_message": REASON,
    "agent_message": REASON,
    "userMessage": REASON,
    "agentMessage": REASON,
}


@pytest.mark.parametrize(
    ("agent", "action", "code", "expected"),
    [
        ("claude", "allow", 0, {}),
        (
            "claude",
            "ask",
            0,
            {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "ask",
                    "permissionDecisionReason": ASK,
                }
            },
        ),
        ("claude", "deny", 2, REASON),
        (
            "claude",
            "kill",
            0,
            {
                "continue": False,
                "stopReason": REASON,
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": REASON,
                },
            },
        ),
        ("codex", "allow", 0, {}),
        (
            "codex",
            "ask",
            2,
            ASK + " (Codex hooks cannot ask: refused; run it yourself if you approve)",
        ),
        ("codex", "deny", 2, REASON),
        ("codex", "kill", 2, REASON),
        ("gemini", "allow", 0, {"decision": "allow"}),
        ("gemini", "ask", 2, ASK),
        ("gemini", "deny", 2, REASON),
        (
            "gemini",
            "kill",
            0,
            {"decision": "deny", "reason": REASON, "continue": False, "stopReason": REASON},
        ),
        ("cursor", "allow", 0, {"permission": "allow"}),
        ("cursor", "ask", 0, {"permission": "ask", **{k: ASK for k in CURSOR_MESSAGES}}),
        ("cursor", "deny", 0, {"permission": "deny", **CURSOR_MESSAGES}),
        ("cursor", "kill", 0, {"permission": "deny", **CURSOR_MESSAGES}),
    ],
)
def test_pre_answers(agent, action, code, expected):
    answer = run(PRE[agent], agent, FakeGuard(action, rule="r", reason="because"))
    assert answer.exit_code == code
    if code == 2:
        assert (answer.stdout, answer.stderr) == ("", expected + "\n")
    else:
        assert body(answer) == expected


@pytest.mark.parametrize(
    ("agent", "data", "action", "expected"),
    [
        (
            "claude",
            {**PRE["claude"], "hook_event_name": "PostToolUse"},
            "deny",
            {
                "decision": "block",
                "reason": REASON + " (this call already ran; the policy would have refused it)",
            },
        ),
        ("claude", {**PRE["claude"], "hook_event_name": "PostToolUse"}, "ask", {}),
        (
            "claude",
            {**PRE["claude"], "hook_event_name": "PostToolUse"},
            "kill",
            {
                "decision": "block",
                "reason": REASON + " (this call already ran; the policy would have refused it)",
                "continue": False,
                "stopReason": REASON + " (this call already ran; the policy would have refused it)",
            },
        ),
        (
            "codex",
            {**PRE["codex"], "hook_event_name": "PostToolUse"},
            "deny",
            {
                "decision": "block",
                "reason": REASON + " (this call already ran; the policy would have refused it)",
            },
        ),
        (
            "gemini",
            {**PRE["gemini"], "hook_event_name": "AfterTool"},
            "deny",
            {
                "decision": "deny",
                "reason": REASON + " (this call already ran; its output is withheld)",
            },
        ),
        (
            "gemini",
            {**PRE["gemini"], "hook_event_name": "AfterTool"},
            "allow",
            {"decision": "allow"},
        ),
        (
            "cursor",
            {"hook_event_name": "afterShellExecution", "command": "ls", "output": "x"},
            "deny",
            {},
        ),
    ],
)
def test_post_events_report_and_never_exit_2(agent, data, action, expected):
    answer = run(data, agent, FakeGuard(action, rule="r", reason="because"))
    assert answer.exit_code == 0
    assert body(answer) == expected


def test_cursor_read_file_cannot_ask_so_it_denies():
    data = {"hook_event_name": "beforeReadFile", "file_path": "/w/.env", "workspace_roots": ["/w"]}
    reply = body(run(data, "cursor", FakeGuard("ask", rule="r", reason="because")))
    assert reply["permission"] == "deny"


def test_cursor_cwd_falls_back_to_the_workspace_root():
    guard = FakeGuard()
    run(
        {
            "hook_event_name": "beforeReadFile",
            "file_path": "a.txt",
            "workspace_roots": ["/ws", "/other"],
        },
        "cursor",
        guard,
    )
    assert guard.calls[0].cwd == "/ws"


# --- Fail closed ------------------------------------------------------------------------


def assert_refused(answer, agent="claude", *needles):
    """The call is refused in the agent's format, and the reason holds every needle."""
    if agent == "cursor":
        assert answer.exit_code == 0
        reply = body(answer)
        assert reply["permission"] == "deny"
        text = reply["agent_message"]
    else:
        assert answer.exit_code == 2
        assert answer.stdout == ""
        text = answer.stderr
    for needle in needles:
        assert needle in text, text
    return text


@pytest.mark.parametrize("agent", ["claude", "codex", "gemini", "cursor"])
def test_guard_crash_refuses_in_every_format(agent):
    answer = run(PRE[agent], agent, FakeGuard(raises=RuntimeError("boom")))
    assert_refused(answer, agent, "hook:error", "RuntimeError: boom")


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(0), MemoryError()])
def test_base_exceptions_inside_the_guard_refuse(exc):
    assert_refused(
        run(PRE["claude"], "claude", FakeGuard(raises=exc)),
        "claude",
        "hook:error",
        type(exc).__name__,
    )


def test_guard_that_fails_to_load_refuses():
    def load(_path):
        raise OSError("disk on fire")

    assert_refused(
        run(PRE["claude"], load_guard=load), "claude", "hook:policy", "OSError: disk on fire"
    )


def test_guard_answering_garbage_refuses():
    class Garbage:
        def check(self, call):
            return {"action": "allow"}

    assert_refused(run(PRE["claude"], guard=Garbage()), "claude", "hook:error", "not a Decision")


def test_missing_policy_file_refuses(tmp_path):
    path = tmp_path / "nope.yaml"
    answer = run_hook(
        json.dumps(PRE["claude"]).encode(), agent="claude", policy_path=str(path), audit_path=None
    )
    assert_refused(answer, "claude", "hook:policy", str(path))


def test_invalid_policy_refuses_naming_the_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nrules:\n  - name: x\n    decision: maybe\n")
    with pytest.raises(PolicyError):
        from tripwire.guard import load_policy

        load_policy(path)
    answer = run_hook(
        json.dumps(PRE["gemini"]).encode(), agent="gemini", policy_path=str(path), audit_path=None
    )
    assert_refused(answer, "gemini", "hook:policy", f"{path}:4")


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "the hook event is empty"),
        (b"   \n", "the hook event is empty"),
        (b"not json", "not JSON"),
        (b'{"tool_name": ', "not JSON"),
        (b"[1, 2]", "JSON list, not an object"),
        (b'"PreToolUse"', "JSON str, not an object"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (
            json.dumps({"hook_event_name": "PreToolUse", "tool_input": {}, "cwd": "/w"}).encode(),
            "field 'tool_name' is missing",
        ),
        (
            json.dumps(
                {
                    "hook_event_name": "PreToolUse",
                    "tool_name": "Bash",
                    "tool_input": "ls",
                    "cwd": "/w",
                }
            ).encode(),
            "field 'tool_input' is input should be a valid dictionary",
        ),
        (
            json.dumps(
                {"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}
            ).encode(),
            "field 'cwd' is missing",
        ),
        (
            json.dumps(
                {
                    "hook_event_name": "SessionStart",
                    "tool_name": "Bash",
                    "tool_input": {},
                    "cwd": "/w",
                }
            ).encode(),
            "'SessionStart' is not a tool event",
        ),
    ],
)
def test_malformed_events_refuse_naming_the_problem(raw, needle):
    guard = FakeGuard()
    assert_refused(run(raw, "claude", guard), "claude", "hook:bad-event", needle)
    assert guard.calls == []  # the guard never saw a call it could have allowed


@pytest.mark.parametrize(
    ("agent", "data", "needle"),
    [
        (
            "gemini",
            {"hook_event_name": "BeforeModel", "tool_name": "x", "tool_input": {}, "cwd": "/w"},
            "'BeforeModel' is not a tool event",
        ),
        (
            "cursor",
            {"hook_event_name": "beforeShellExecution", "cwd": "/w"},
            "field 'command' is missing",
        ),
        (
            "cursor",
            {"hook_event_name": "beforeMCPExecution", "tool_name": "q", "tool_input": "{not json"},
            "'tool_input' is not JSON",
        ),
        (
            "cursor",
            {"hook_event_name": "beforeMCPExecution", "tool_name": "q", "tool_input": "[1]"},
            "'tool_input' is not a JSON object",
        ),
        (
            "cursor",
            {"hook_event_name": "stop", "status": "completed"},
            "'stop' is not one tripwire handles",
        ),
        (
            "codex",
            {"hook_event_name": "PreToolUse", "tool_name": "", "tool_input": {}, "cwd": "/w"},
            "field 'tool_name'",
        ),
    ],
)
def test_malformed_events_per_agent(agent, data, needle):
    assert_refused(run(data, agent), agent, "hook:bad-event", needle)


def test_huge_event_refused_unread():
    guard = FakeGuard()
    data = {**PRE["claude"], "tool_input": {"file_path": "/w/a", "content": "x" * 5000}}
    answer = run(data, "claude", guard, max_event_bytes=4096)
    assert_refused(answer, "claude", "hook:bad-event", "over the 4096-byte limit")
    assert guard.calls == []


def test_slow_guard_times_out_and_refuses():
    started = time.monotonic()
    answer = run(PRE["claude"], "claude", FakeGuard(delay=3.0), timeout=0.2)
    assert time.monotonic() - started < 1.5
    assert_refused(answer, "claude", "hook:timeout", "within 0.2 s")


def test_slow_guard_times_out_in_cursor_format():
    answer = run(PRE["cursor"], "cursor", FakeGuard(delay=3.0), timeout=0.2)
    assert_refused(answer, "cursor", "hook:timeout")


def test_unknown_agent_refuses():
    answer = run(PRE["claude"], "copilot")
    assert (answer.exit_code, answer.stdout) == (2, "")
    assert "unknown agent 'copilot'" in answer.stderr


# --- Audit log --------------------------------------------------------------------------


def test_every_decision_is_logged():
    audit = FakeAudit()
    run(
        event_dict("claude_pre_write_src.json"),
        "claude",
        FakeGuard("deny", rule="r", reason="because"),
        audit,
    )
    [(kind, record)] = audit.records
    assert kind == "decision"
    assert record["source"] == "hook:claude"
    assert (record["event"], record["kind"], record["tool"]) == ("PreToolUse", "pre", "Write")
    assert record["session"] == "5f0c7a52-8d1e-4d7b-9a3e-2b6f1c0e9d41"
    assert record["arguments"]["file_path"] == "/home/dev/shop/src/shop/cart.py"
    assert (record["action"], record["rule"], record["reason"]) == ("deny", "r", "because")
    assert 0 <= record["elapsed_ms"] < 5000
    assert audit.closed  # one-shot: flushed before the answer


def test_long_arguments_are_logged_as_a_preview():
    audit = FakeAudit()
    data = {**PRE["claude"], "tool_input": {"file_path": "/w/a", "content": "y" * 10_000}}
    run(data, "claude", FakeGuard(), audit)
    logged = audit.records[0][1]["arguments"]
    assert logged["truncated"] is True
    assert logged["chars"] > 10_000
    assert len(logged["preview"]) == ARGUMENTS_LOG_CHARS


def test_unreadable_events_are_logged_with_the_raw_start():
    audit = FakeAudit()
    run(b"garbage " * 200, "claude", FakeGuard(), audit)
    record = audit.records[0][1]
    assert (record["rule"], record["tool"]) == ("hook:bad-event", None)
    assert record["raw"].startswith("garbage garbage")
    assert len(record["raw"]) == 512 and record["raw_bytes"] == 1600


@pytest.mark.parametrize(
    ("audit", "opener_error"),
    [
        (FakeAudit(fail_append=PermissionError("read-only file system")), None),
        (FakeAudit(fail_close=OSError("fsync failed")), None),
        (None, PermissionError("cannot create audit.jsonl")),
    ],
)
def test_audit_failure_refuses_an_allowed_call(audit, opener_error):
    def opener(_path):
        if opener_error is not None:
            raise opener_error
        return audit

    answer = run(
        PRE["claude"], "claude", FakeGuard("allow"), audit_path="audit.jsonl", open_audit=opener
    )
    assert_refused(answer, "claude", "hook:audit", "could not be written", "--audit off")


def test_audit_failure_keeps_a_deny_and_says_both():
    answer = run(
        PRE["gemini"],
        "gemini",
        FakeGuard("deny", rule="r", reason="because"),
        FakeAudit(fail_append=OSError("disk full")),
    )
    assert_refused(
        answer,
        "gemini",
        "tripwire (r): because; also the audit log could not be written (OSError: disk full)",
    )


def test_audit_off_lets_an_allowed_call_through():
    answer = run(
        PRE["claude"],
        "claude",
        FakeGuard("allow"),
        audit_path=None,
        open_audit=lambda _p: pytest.fail("opened"),
    )
    assert (answer.exit_code, body(answer)) == (0, {})


# --- The real command line ----------------------------------------------------------------


def test_cli_invalid_policy(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\nrules: [{name: x, decision: allow, effects: [teleport]}]\n")
    proc = cli(
        ["hook", "--policy", str(policy), "--audit", "off"],
        stdin=json.dumps(PRE["claude"]).encode(),
    )
    assert proc.returncode == 2
    assert "hook:policy" in proc.stderr.decode()
    assert f"{policy}:2" in proc.stderr.decode()


def test_cli_missing_policy():
    proc = cli(
        ["hook", "--policy", "/nonexistent/policy.yaml", "--audit", "off"],
        stdin=json.dumps(PRE["claude"]).encode(),
    )
    assert proc.returncode == 2
    assert "/nonexistent/policy.yaml" in proc.stderr.decode()


@pytest.mark.parametrize("stdin", [b"", b"{", b"[]", b"\x00\x01\x02"])
def test_cli_malformed_stdin(stdin):
    proc = cli(["hook", "--audit", "off"], stdin=stdin)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert b"hook:bad-event" in proc.stderr


def test_cli_huge_stdin():
    proc = cli(
        ["hook", "--audit", "off", "--max-event-bytes", "1000"], stdin=b"{" + b" " * 5000 + b"}"
    )
    assert proc.returncode == 2
    assert b"over the 1000-byte limit" in proc.stderr


def test_cli_unwritable_audit_log(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    proc = cli(
        ["hook", "--audit", str(blocker / "audit.jsonl")], stdin=event_bytes("claude_pre_read.json")
    )
    assert proc.returncode == 2
    assert b"hook:audit" in proc.stderr


def test_cli_bad_arguments_refuse():
    proc = cli(["hook", "--agent", "copilot"], stdin=json.dumps(PRE["claude"]).encode())
    assert proc.returncode == 2
    assert b"invalid choice: 'copilot'" in proc.stderr
    assert b"refused" in proc.stderr


def test_cli_policy_that_hangs_times_out(tmp_path):
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)  # opening it for reading blocks until a writer comes: never
    started = time.monotonic()
    proc = cli(
        ["hook", "--policy", str(fifo), "--audit", "off", "--timeout", "0.5"],
        stdin=json.dumps(PRE["claude"]).encode(),
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 2
    assert b"hook:timeout" in proc.stderr


def test_cli_stdin_never_closed_hits_the_process_watchdog():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tripwire",
            "hook",
            "--agent",
            "cursor",
            "--audit",
            "off",
            "--timeout",
            "0.3",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    try:
        proc.wait(timeout=30)  # stdin is never written to nor closed
        out = proc.stdout.read()
    finally:
        proc.kill()
        proc.stdin.close()
    assert proc.returncode == 0  # Cursor's refusal is JSON on exit 0
    reply = json.loads(out)
    assert reply["permission"] == "deny"
    assert "ran over 0.3 s" in reply["agent_message"]


def test_cli_hook_path_imports_no_heavy_packages():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tripwire", "hook", "--audit", "off"],
        input=event_bytes("claude_pre_write_src.json"),
        capture_output=True,
        env=cli_env(),
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0
    imported = {
        line.split("|")[-1].strip()
        for line in proc.stderr.decode().splitlines()
        if line.startswith("import time:")
    }
    assert "tripwire.guard._hook" in imported
    heavy = {
        m
        for m in imported
        if m.split(".")[0] in {"typer", "rich", "inspect_ai", "pandas", "matplotlib", "click"}
    }
    assert heavy == set()


def test_recorded_events_are_all_exercised():
    covered = {case.values[0] if hasattr(case, "values") else case[0] for case in RECORDED}
    covered |= {"cursor_before_shell_rm_git.json", "cursor_before_mcp_delete_email.json"}
    assert covered == {p.name for p in EVENTS.glob("*.json")}


def test_the_real_audit_opener_enters_appends_and_exits(monkeypatch, tmp_path):
    """The contract with tripwire.audit: AuditLog(path, fsync="batch") as a context manager."""
    seen = []

    class AuditLog:
        def __init__(self, path, fsync):
            seen.append(("init", path, fsync))

        def __enter__(self):
            seen.append(("enter",))
            return self

        def append(self, kind, data):
            seen.append(("append", kind, data["rule"]))

        def __exit__(self, *exc):
            seen.append(("exit",))

    module = type(sys)("tripwire.audit")
    module.AuditLog = AuditLog
    monkeypatch.setitem(sys.modules, "tripwire.audit", module)
    path = str(tmp_path / "audit.jsonl")
    answer = run_hook(
        json.dumps(PRE["claude"]).encode(),
        agent="claude",
        policy_path=None,
        audit_path=path,
        load_guard=lambda _p: FakeGuard("allow", rule="r"),
    )
    assert (answer.exit_code, body(answer)) == (0, {})
    assert seen == [("init", path, "batch"), ("enter",), ("append", "decision", "r"), ("exit",)]
