"""Policy files: validation errors name the line; path sets; the default policy loads."""

import pytest

from tripwire._errors import PolicyError
from tripwire.guard import default_policy, load_policy, parse_policy
from tripwire.guard._glob import PathPattern, globs_intersect, name_matches


def test_default_policy_loads_and_denies_unparseable():
    policy = default_policy()
    assert policy.unparseable == "deny"
    assert {r.name for r in policy.rules} >= {
        "oversight-tamper",
        "weights-copy",
        "goals-tamper",
        "sql-destroy-production",
        "delete-mail-tool",
        "opaque-code",
    }


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("rules:\n  - name: a\n    decision: maybe\n", 3, "decision"),
        ("rules:\n  - name: a\n    decision: deny\n    effect: [write]\n", 4, "effect"),
        ("default: allow\nunparseable: sometimes\n", 2, "unparseable"),
        ("rules:\n  - name: a\n    decision: deny\n    paths: ['@nowhere']\n", 2, "@nowhere"),
        ("rules: [\n  - oops\n", 2, "not valid YAML"),
    ],
)
def test_bad_policy_names_line_and_problem(text, line, words):
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="p.yaml")
    message = str(info.value)
    assert message.startswith(f"p.yaml:{line}:"), message
    assert words in message
    assert "\n" not in message


def test_missing_and_non_mapping_policy(tmp_path):
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "absent.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(PolicyError, match="YAML mapping"):
        load_policy(tmp_path / "list.yaml")


def test_path_sets_expand():
    policy = parse_policy(
        "paths:\n  cfg: ['*.cfg', '/etc/**']\n"
        "rules:\n  - {name: r, decision: deny, paths: ['@cfg', '*.ini']}\n"
    )
    assert policy.expand(policy.rules[0].paths or []) == ["*.cfg", "/etc/**", "*.ini"]


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*oversight*", "/w/p/oversight_config.yaml", True),
        ("*oversight*", "/w/oversight/readme.md", False),  # a name glob looks at the name
        ("**/oversight/**", "/w/oversight/readme.md", True),
        ("*.gguf", "/a/b/model.gguf", True),
        ("/etc/**", "/etc/cron.d/x", True),
        ("/etc/**", "/home/etc/x", False),
        ("**/.git", "/w/p/.git", True),
        ("/home/*", "/home/agent/x", False),
        ("**/models/**", "/w/models/a/b.bin", True),
        ("/w/**/b", "/w/b", True),
        ("[!a]*.txt", "/x/b.txt", True),
        ("[!a]*.txt", "/x/a.txt", False),
    ],
)
def test_path_pattern(pattern, path, hit):
    assert PathPattern(pattern).matches(path) is hit


@pytest.mark.parametrize(
    ("left", "right", "meet"),
    [
        ("/w/p/over*", "**/*oversight*", True),
        ("/w/p/*.py", "*.gguf", False),
        ("/w/*/x", "/w/a/b/x", False),
        ("/w/**/x", "/w/a/b/x", True),
        ("/w/p/?odel.bin", "**/*.bin", True),
        ("/w/p/a*", "/w/q/**", False),
        ("/w/p/[mx]odel.gguf", "**/models/**", False),
    ],
)
def test_globs_intersect(left, right, meet):
    assert globs_intersect(left, right) is meet
    assert globs_intersect(right, left) is meet


def test_name_matches_is_case_insensitive():
    assert name_matches("mcp__Gmail__DeleteMessage", "*delete*")
    assert not name_matches("bash", "sh")


def test_path_set_matches_like_its_patterns():
    from tripwire.guard._glob import PathSet

    patterns = ["*oversight*", "/etc/**", "**/models/**", "*.gguf", "/home/*", "[!a]*.txt"]
    paths = [
        "/w/p/oversight.yaml", "/etc/x", "/w/models/a", "/a/b.gguf", "/home/agent",
        "/home/agent/x", "/x/a.txt", "/x/b.txt", "/w/src/app.py", "/etc",
    ]  # fmt: skip
    combined = PathSet(patterns)
    for path in paths:
        expected = any(PathPattern(p).matches(path) for p in patterns)
        assert combined.matches(path) is expected, path
    assert not PathSet([]).matches("/anything")
