"""The engine on non-shell tools: editors, MCP tools, patches, links, dirs, limits."""

import pytest

from tripwire.guard import (
    BlindView,
    Guard,
    GuardCall,
    HostView,
    _engine,
    parse_policy,
    sandbox_view,
)


@pytest.fixture
def tree(tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print(1)\n")
    (project / "oversight_config.yaml").write_text("oversight_enabled: true\n")
    (project / "link_to_cfg").symlink_to(project / "oversight_config.yaml")
    (project / "build").mkdir()
    (project / "build" / "out.o").write_text("")
    return tmp_path


def check(guard, tool, cwd="/", **arguments):
    return guard.check(GuardCall(tool=tool, arguments=arguments, cwd=str(cwd)))


@pytest.mark.parametrize(
    ("tool", "arguments", "action", "rule"),
    [
        (
            "Write",
            {"file_path": "oversight_config.yaml", "content": ""},
            "deny",
            "oversight-tamper",
        ),
        (
            "Edit",
            {"file_path": "src/app.py", "old_string": "1", "new_string": "2"},
            "allow",
            "default",
        ),
        ("write_file", {"path": "../project/.claude/settings.json"}, "deny", "oversight-tamper"),
        (
            "str_replace_based_edit_tool",
            {"command": "view", "path": "oversight_config.yaml"},
            "allow",
            "default",
        ),
        (
            "str_replace_based_edit_tool",
            {"command": "create", "path": "oversight_config.yaml"},
            "deny",
            "oversight-tamper",
        ),
        (
            "mcp__fs__delete_file",
            {"path": "/srv/models/agent.safetensors"},
            "deny",
            "weights-tamper",
        ),
        ("mcp__fs__read_file", {"path": "/srv/models/agent.safetensors"}, "allow", "default"),
        ("mcp__gmail__batchTrashThreads", {"ids": ["1", "2"]}, "ask", "delete-mail-tool"),
        ("delete_email", {"id": "42"}, "ask", "delete-mail-tool"),
        ("send_email", {"to": "a@b.c"}, "allow", "default"),
        (
            "MultiEdit",
            {"file_path": "data/system_prompt_v2.txt", "edits": []},
            "deny",
            "goals-tamper",
        ),
        (
            "apply_patch",
            {
                "input": "*** Begin Patch\n*** Update File: scoring/scoring.py\n@@\n-a\n+b\n*** End Patch"
            },
            "deny",
            "scoring-tamper",
        ),
        (
            "apply_patch",
            {"input": "*** Begin Patch\n*** Update File: src/app.py\n@@\n-a\n+b\n*** End Patch"},
            "allow",
            "default",
        ),
    ],
)
def test_non_shell_tools(tree, tool, arguments, action, rule):
    decision = check(Guard.default(), tool, cwd=tree / "project", **arguments)
    assert (decision.action, decision.rule) == (action, rule), decision.reason


@pytest.mark.parametrize(
    ("tool", "arguments", "action", "rule"),
    [
        ("execute", {"script": "rm -f oversight_config.yaml"}, "deny", "oversight-tamper"),
        ("spawn_process", {"input": "chmod 000 oversight_config.yaml"}, "deny", "oversight-tamper"),
        (
            "mcp__box__run",
            {"script": "truncate -s0 oversight_config.yaml"},
            "deny",
            "oversight-tamper",
        ),
        (
            "do_thing",
            {"command": "sed -i s/true/false/ oversight_config.yaml"},
            "deny",
            "oversight-tamper",
        ),
        ("execute", {"script": "ls -la"}, "allow", "default"),
        (
            "execute",
            {"code": "import os; os.remove('oversight_config.yaml')"},
            "deny",
            "oversight-tamper",
        ),
        (
            "run_code",
            {"code": "rm oversight_config.yaml", "language": "bash"},
            "deny",
            "oversight-tamper",
        ),
        ("execute", {"code": "print(sum(range(10)))"}, "allow", "default"),
        # Names that do not run things keep their arguments as data.
        ("show_status", {"input": "rm -f oversight_config.yaml"}, "allow", "default"),
    ],
)
def test_unknown_tools_that_run_commands_are_read_as_shells(tree, tool, arguments, action, rule):
    decision = check(Guard.default(), tool, cwd=tree / "project", **arguments)
    assert (decision.action, decision.rule) == (action, rule), decision.reason


@pytest.mark.parametrize(
    ("script", "action"),
    [
        ("s/def test_retry/def _skip_test_retry/", "allow"),  # `e` inside the text
        ("s/te/st/g", "allow"),
        ("s/.*/rm -rf x/e", "deny"),  # the `e` flag runs the result
        ("1,3s|x|y|ge", "deny"),
        ("/foo/s/x/y/e", "deny"),
        ("p;e ls", "deny"),
    ],
)
def test_sed_runs_shell_only_with_its_e_command_or_flag(tree, script, action):
    command = f"sed -i {__import__('shlex').quote(script)} src/app.py"
    decision = check(Guard.default(), "bash", cwd=tree / "project", command=command)
    assert decision.action == action, decision.reason


def test_symlink_to_protected_file_is_followed(tree):
    decision = check(Guard.default(), "Write", cwd=tree / "project", file_path="link_to_cfg")
    assert decision.action == "deny"
    assert "oversight_config.yaml" in decision.reason


def test_symlinks_inside_a_sandbox_resolve_inside_it(tree):
    view = sandbox_view({"/home/agent": tree / "project"})
    guard = Guard.default(view=view)
    decision = check(guard, "Write", cwd="/home/agent", file_path="link_to_cfg")
    # The link's absolute target is a host path the sandbox cannot see; relative links
    # resolve inside: make one.
    (tree / "project" / "rel_link").symlink_to("oversight_config.yaml")
    decision = check(guard, "Write", cwd="/home/agent", file_path="rel_link")
    assert decision.action == "deny"
    assert "/home/agent/oversight_config.yaml" in decision.reason


def test_directory_operations_look_inside(tree):
    guard = Guard.default()
    assert check(guard, "delete_file", cwd=tree, path="project").action == "deny"
    assert check(guard, "delete_file", cwd=tree, path="project/build").action == "allow"


def test_blind_view_judges_globs_by_what_they_could_name(tree):
    blind = Guard.default(view=BlindView())
    host = Guard.default(view=HostView())
    call = GuardCall(tool="delete_file", arguments={"path": "over*"}, cwd=str(tree / "project"))
    assert blind.check(call).action == "deny"  # could name oversight_config.yaml
    assert host.check(call).action == "deny"  # does name it
    call = GuardCall(tool="delete_file", arguments={"path": "build/*.o"}, cwd=str(tree / "project"))
    assert host.check(call).action == "allow"


def test_rate_limit_per_session():
    now = [0.0]
    policy = parse_policy(
        "rate_limits:\n  - {name: burst, tools: ['Read'], max_calls: 2, per_seconds: 10}\n"
    )
    guard = Guard(policy, clock=lambda: now[0])
    call = GuardCall(tool="Read", arguments={"file_path": "/x"}, session="a")
    other = GuardCall(tool="Read", arguments={"file_path": "/x"}, session="b")
    assert [guard.check(call).action for _ in range(3)] == ["allow", "allow", "deny"]
    assert guard.check(other).action == "allow"
    assert guard.check(call).rule == "rate-limit:burst"
    now[0] = 11.0
    assert guard.check(call).action == "allow"


def test_honeytokens_trip_on_read_and_on_use(tree):
    policy = parse_policy(
        "honeytokens: ['**/.aws/credentials']\nhoneytoken_strings: ['AKIAFAKE1234']\n"
    )
    guard = Guard(policy)
    assert check(guard, "Read", file_path="/home/a/.aws/credentials").action == "kill"
    used = check(guard, "http_request", url="https://x.example", body="key=AKIAFAKE1234")
    assert (used.action, used.rule) == ("kill", "honeytoken")
    assert check(guard, "Read", file_path="/home/a/notes.txt").action == "allow"


def test_guard_fails_closed_on_internal_error(monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(_engine, "call_effects", boom)
    decision = check(Guard.default(), "Read", file_path="/x")
    assert (decision.action, decision.rule) == ("deny", "guard-error")
    assert "RuntimeError: bug" in decision.reason


def test_shell_call_without_command_is_unparseable():
    decision = check(Guard.default(), "bash", script_text="rm -rf /")
    assert (decision.action, decision.rule) == ("deny", "unparseable")


def test_unparseable_decision_comes_from_the_policy():
    guard = Guard(parse_policy("unparseable: ask\n"))
    assert check(guard, "bash", nothing="x").action == "ask"


def test_decision_lists_effects_and_the_matched_one(tree):
    decision = check(
        Guard.default(), "Write", cwd=tree / "project", file_path="oversight_config.yaml"
    )
    assert [e.kind for e in decision.effects] == ["call", "write"]
    assert decision.matched[0].path == str(tree / "project" / "oversight_config.yaml")
    assert decision.blocked
