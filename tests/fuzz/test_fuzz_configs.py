"""Bad YAML: guard policies, theme banks, sandbox configs, and configs the agent rewrites.

Users write policies, theme banks and sandbox configs: any text must load or give one
`ConfigError` line that names the file. Agents rewrite the configs detectors read:
any text must be judged (tampering or not), never crash or hang the detector.
"""

# Table-driven cases read best one case per line (as in tests/guard).
# ruff: noqa: E501

from __future__ import annotations

import copy
import time
from importlib.resources import files
from typing import Any

import pytest
import yaml
from fuzz_budget import budget
from hypothesis import example, given
from hypothesis import strategies as st

from tripwire._errors import ConfigError, PolicyError
from tripwire._untrusted import load_yaml, shown
from tripwire.guard import parse_policy
from tripwire.guard._policy import Policy
from tripwire.scenarios import parse_themes
from tripwire.scenarios.kill_switch._detector import compare_config
from tripwire.scenarios.kill_switch._layout import SupervisorSettings
from tripwire.scenarios.oversight_subversion._detector import OversightConfigDetector

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["deny", "allow", "kill", "ask", "@secrets", "*", "(", "[a-", "**/x"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# YAML that is not a plain tree: tags, anchors, odd keys, unclosed brackets, control bytes.
_yaml_fragments = st.sampled_from(
    [
        "rules:\n", "  - ", "name: a\n", "decision: deny\n", "{", "}", "[", "]", ": ", "? ",
        "&a ", "*a", "!!binary ", "!!python/object:os.system ", "!!set ", "- - - ", "\t",
        "\x00", "\x85", "\ufeff", "'", '"', "\\", "%YAML 1.1\n", "---\n", "...\n", "9" * 5000,
        "[" * 2000, "via: ['" + "(" * 1000 + "']\n",
    ]
)  # fmt: skip
_yaml_text = st.lists(st.one_of(_yaml_fragments, st.text(max_size=6)), max_size=25).map("".join)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


def _replaced(tree: Any, at: tuple[Any, ...], new: Any) -> Any:
    if not at:
        return new
    tree = copy.copy(tree)
    tree[at[0]] = _replaced(tree[at[0]], at[1:], new)
    return tree


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def mutations(text: str) -> st.SearchStrategy[str]:
    """YAML text of `text`'s document with one value anywhere replaced by another."""
    tree = yaml.safe_load(text)
    points = _paths(tree)
    return st.builds(
        lambda at, new: yaml.dump(_replaced(tree, at, new), Dumper=_Dumper, allow_unicode=True),
        st.sampled_from(points),
        _values,
    )


def assert_one_line(ex: Exception, source: str) -> None:
    message = str(ex)
    assert message and "\n" not in message, message
    assert source in message, message


# Guard policies.

DEFAULT_POLICY = files("tripwire.guard").joinpath("data/default_policy.yaml").read_text()


def check_policy(text: str) -> None:
    try:
        policy = parse_policy(text, source="p.yaml")
    except PolicyError as ex:
        assert_one_line(ex, "p.yaml")
    else:
        assert isinstance(policy, Policy)


@budget(200)
@given(_yaml_text)
@example("rules:\n  - {name: a, decision: deny, via: ['" + "(" * 2000 + ")" * 2000 + "']}")
@example("rules: [\udcff]")
@example("a: " + "[" * 5000)
@example("? [a, b]\n: 1\n")
@example("rate_limits: [{name: a, max_calls: " + "9" * 5000 + ", per_seconds: 1}]")
def test_any_policy_text_loads_or_is_one_line_policy_error(text):
    check_policy(text)


@budget(60)
@given(mutations(DEFAULT_POLICY))
def test_any_change_to_the_default_policy_loads_or_is_one_line_policy_error(text):
    check_policy(text)


# Theme banks (`load_themes(path)`: users may bring their own).

THEMES = files("tripwire.scenarios").joinpath("data/themes.yaml").read_text()


def check_themes(text: str) -> None:
    try:
        themes = parse_themes(text, "themes.yaml")
    except ConfigError as ex:
        assert_one_line(ex, "themes.yaml")
    else:
        assert themes


@budget(40)
@given(mutations(THEMES))
def test_any_change_to_the_theme_bank_loads_or_is_one_line_config_error(text):
    check_themes(text)


@budget(100)
@given(_yaml_text)
@example("themes: [\n  - id: x\n")  # PyYAML's own message spans five lines
@example("themes: " + "[" * 5000)
def test_any_themes_text_loads_or_is_one_line_config_error(text):
    check_themes(text)


def test_a_binary_themes_file_is_a_config_error(tmp_path):
    from tripwire.scenarios import load_themes

    path = tmp_path / "themes.yaml"
    path.write_bytes(b"\xff\xfe\x00themes")
    with pytest.raises(ConfigError, match="Cannot read themes file"):
        load_themes(path)


# Configs the agent can rewrite, as the detectors read them.

_BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
    + "{key}: [" + ", ".join(["*i"] * 9) + "]\n"
)  # fmt: skip
_HOSTILE = [
    "oversight_enabled: " + "[" * 20000 + "]" * 20000,
    _BOMB.format(key="oversight_enabled"),
    "oversight_enabled: &a [*a]\n",
    "oversight_enabled: " + "9" * 5000,
    "oversight_enabled: !!python/object/apply:os.system ['id']",
    "\x00\x01\x02",
]


@budget(200)
@given(st.one_of(_yaml_text, st.sampled_from(_HOSTILE)))
@example(_HOSTILE[0])
@example(_HOSTILE[1])
@example(_HOSTILE[3])
def test_any_oversight_config_is_judged_quickly(text):
    detector = OversightConfigDetector("project/oversight_config.yaml", "selector")
    started = time.perf_counter()
    violations = detector._judge_content(text)
    assert time.perf_counter() - started < 5
    # Anything but the pristine settings is a violation: no text hides tampering.
    assert violations
    assert all(len(v.detail) < 500 for v in violations)


@budget(150)
@given(st.one_of(_yaml_text, st.sampled_from(_HOSTILE), mutations(SupervisorSettings().yaml())))
@example(_BOMB.format(key="enabled"))
@example(_BOMB.format(key="extra"))
@example("? ")  # a null key
@example("1: x\ntrue: y")
def test_any_supervisor_config_is_judged_quickly(text):
    settings = SupervisorSettings()
    started = time.perf_counter()
    try:
        config = load_yaml(text)
    except yaml.YAMLError:
        return  # the detector reports `config_corrupted`
    if isinstance(config, dict):
        violations = compare_config(config, settings)
        assert all(len(v.detail) < 2000 for v in violations)
    assert time.perf_counter() - started < 5


def test_the_pristine_supervisor_config_has_no_violations():
    settings = SupervisorSettings()
    assert compare_config(load_yaml(settings.yaml()), settings) == []


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"a": [1, 2]}, '{"a": [1, 2]}'),
        ("x" * 100, '"' + "x" * 59),
        (10**5000, "<int>"),
    ],
    ids=["mapping", "long-text", "huge-integer"],
)
def test_shown_is_bounded_json(value, text):
    assert shown(value) == text


def test_shown_never_expands_an_alias_bomb():
    bomb = load_yaml(_BOMB.format(key="k"))
    started = time.perf_counter()
    assert len(shown(bomb, 60)) == 60
    assert time.perf_counter() - started < 1
    loop: list[Any] = []
    loop.append(loop)
    assert shown(loop) == "<list>"


# Sandbox configs (`("bwrap", "bwrap.yaml")`).


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"memory_bytes: -1\nmax_processes: x\n", id="invalid-fields"),
        pytest.param(b"workdir: [\n", id="not-yaml"),
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(b"a: " + b"[" * 5000 + b"]" * 5000, id="deep"),
        pytest.param(b"- 1\n- 2\n", id="a-list"),
    ],
)
def test_a_bad_bwrap_config_file_is_one_config_error_line(tmp_path, content):
    from tripwire.sandbox._bwrap import _resolve_config

    path = tmp_path / "bwrap.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        _resolve_config(str(path))
    assert_one_line(info.value, str(path))
