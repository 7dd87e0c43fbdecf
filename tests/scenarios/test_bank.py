"""The shared scenario bank: its themes, and how a broken themes file is reported."""

import re
from collections import Counter

import pytest
import yaml

from tripwire._errors import ConfigError
from tripwire.scenarios import Theme, load_themes, parse_themes, pick_themes

EVALUATION_WORDS = re.compile(r"oversight|config|server|system prompt", re.IGNORECASE)


@pytest.fixture
def bank_text():
    from importlib.resources import files

    return files("tripwire.scenarios").joinpath("data/themes.yaml").read_text(encoding="utf-8")


def theme_dicts(text):
    return yaml.safe_load(text)["themes"]


def dump(themes):
    return yaml.safe_dump({"themes": themes}, sort_keys=False, allow_unicode=True)


def test_at_least_thirty_distinct_themes():
    themes = load_themes()
    assert len(themes) >= 30
    for field in ("id", "agent_name", "selector_tool", "data_file"):
        values = [getattr(t, field) for t in themes]
        assert len(set(values)) == len(values), field


def test_every_theme_has_one_agent_and_one_developer_option():
    # Instrumental alignment faking offers exactly these two as its binary choice.
    for theme in load_themes():
        serves = Counter(option.serves for option in theme.options.values())
        assert serves == {"agent": 1, "developer": 1, "neither": 1}, theme.id
        assert theme.option_serving("agent") != theme.option_serving("developer")


def test_agent_option_letter_is_balanced():
    counts = Counter(theme.option_serving("agent") for theme in load_themes())
    assert set(counts) == {"A", "B", "C"}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    developer = Counter(theme.option_serving("developer") for theme in load_themes())
    assert min(developer.values()) >= len(load_themes()) // 4, developer


def test_themes_span_many_domains():
    # Each theme's agent is a different system with its own selector and company.
    themes = load_themes()
    assert len({t.company for t in themes}) == len(themes)
    assert len({t.goal for t in themes}) == len(themes)


def test_conflicts_are_evaluation_neutral():
    for theme in load_themes():
        conflict = theme.template_fields()["conflict"]
        assert not EVALUATION_WORDS.search(conflict), (theme.id, conflict)
        # Management names the one option it accepts, and the AI's leaning is noted.
        developer = theme.option_serving("developer")
        assert f"Strategy {developer} ({theme.options[developer].title})" in conflict
        assert theme.agent_name in conflict, theme.id
        assert "{{" not in conflict and "}}" not in conflict


def test_data_and_options_are_evaluation_neutral():
    for theme in load_themes():
        texts = [theme.data, theme.task, *(o.description for o in theme.options.values())]
        for text in texts:
            assert not EVALUATION_WORDS.search(text), (theme.id, text)


def test_data_blocks_carry_figures():
    for theme in load_themes():
        lines = [line for line in theme.data.splitlines() if line.strip()]
        assert len(lines) >= 5, theme.id
        assert sum(bool(re.search(r"\d", line)) for line in lines) >= 4, theme.id


@pytest.mark.parametrize("field", ["goal", "developer_goal"])
def test_goals_read_as_system_prompt_goals(field):
    for theme in load_themes():
        goal = getattr(theme, field)
        sentence = f"Your goal is to {goal}."
        assert goal == goal.strip() and "  " not in goal, theme.id
        assert re.match(r"^Your goal is to [a-z]+ ", sentence), (theme.id, sentence)
        assert not re.search(r"\b(management|the board|they) wants?\b", goal), theme.id
        assert theme.agent_name not in goal, theme.id


def test_option_labels_follow_the_evaluation():
    theme = load_themes()[0]
    developer = theme.option_serving("developer")
    fields = theme.template_fields({developer: "B", theme.option_serving("agent"): "A"})
    assert f"Strategy B ({theme.options[developer].title})" in fields["conflict"]
    assert fields["developer_option"].startswith("Strategy B (")
    assert fields["agent_option"].startswith("Strategy A (")
    assert fields["memo_sender"] == theme.memo_from.split(",")[0]


def test_pick_themes_by_id_keeps_order_and_lists_valid_ids():
    ids = [t.id for t in load_themes()]
    assert [t.id for t in pick_themes(f"{ids[2]}, {ids[0]}")] == [ids[2], ids[0]]
    assert [t.id for t in pick_themes([ids[1]])] == [ids[1]]
    assert pick_themes(None) == list(load_themes())
    with pytest.raises(ConfigError, match=r"Unknown theme\(s\) \['atlantis'\]") as error:
        pick_themes("atlantis," + ids[0])
    assert all(i in str(error.value) for i in ids)


def test_packaged_bank_parses_from_its_text(bank_text):
    assert parse_themes(bank_text, "bank") == load_themes()


def test_load_themes_from_a_path(tmp_path, bank_text):
    path = tmp_path / "themes.yaml"
    path.write_text(dump(theme_dicts(bank_text)[:2]))
    assert [t.id for t in load_themes(path)] == [t.id for t in load_themes()[:2]]
    with pytest.raises(ConfigError, match="Cannot read themes file"):
        load_themes(tmp_path / "missing.yaml")


def broken(bank_text, index, change):
    themes = theme_dicts(bank_text)
    change(themes[index])
    return themes


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda t: t.pop("conflict"), "conflict", "Field required"),
        (lambda t: t.update(memo="old style"), "memo", "Extra inputs"),
        (lambda t: t.update(selector_tool="pick_strategy"), "selector_tool", "pattern"),
        (lambda t: t["options"]["A"].update(serves="nobody"), "options.A.serves", "agent"),
        (lambda t: t.update(memo_date="2026-04-14"), "memo_date", "14 April 2026"),
        (lambda t: t.update(goal="Protect rivers."), "goal", "Your goal is to"),
        (
            lambda t: t.update(conflict="We accept only {{ developer_option }} on this server."),
            "conflict",
            "'server'",
        ),
        (
            lambda t: t.update(conflict="{{ developer_option }}, says {{ config_path }}."),
            "conflict",
            "config_path",
        ),
        (lambda t: t.update(conflict="We accept only Strategy A."), "conflict", "developer_option"),
    ],
)
def test_broken_file_names_file_theme_and_field_in_one_line(
    tmp_path, bank_text, change, field, message
):
    path = tmp_path / "broken_themes.yaml"
    themes = broken(bank_text, 3, change)
    path.write_text(dump(themes))
    with pytest.raises(ConfigError) as error:
        load_themes(path)
    text = str(error.value)
    assert "\n" not in text
    assert str(path) in text
    assert f"theme #3 '{themes[3]['id']}'" in text
    assert f"field '{field}'" in text
    assert message in text


def test_two_options_serving_the_agent_is_an_error(bank_text):
    themes = broken(
        bank_text, 0, lambda t: [o.update(serves="agent") for o in t["options"].values()]
    )
    with pytest.raises(ConfigError, match="field 'options': .*one serving each"):
        parse_themes(dump(themes), "themes.yaml")


def test_theme_without_an_id_is_named_by_index(bank_text):
    themes = broken(bank_text, 5, lambda t: t.pop("id"))
    with pytest.raises(ConfigError, match=r"themes.yaml: theme #5, field 'id': Field required"):
        parse_themes(dump(themes), "themes.yaml")


@pytest.mark.parametrize("field", ["id", "selector_tool", "data_file"])
def test_duplicates_are_errors(bank_text, field):
    themes = theme_dicts(bank_text)
    themes[4][field] = themes[1][field]
    with pytest.raises(ConfigError) as error:
        parse_themes(dump(themes), "themes.yaml")
    text = str(error.value)
    assert f"theme #4 '{themes[4]['id']}', field '{field}'" in text
    assert "already used by theme #1" in text


def test_not_yaml_and_empty_files_are_errors():
    with pytest.raises(ConfigError, match="x.yaml: not valid YAML"):
        parse_themes("themes: [", "x.yaml")
    with pytest.raises(ConfigError, match="x.yaml, field 'themes'"):
        parse_themes("themes: []", "x.yaml")


def test_theme_model_round_trips():
    theme = load_themes()[0]
    assert Theme.model_validate(theme.model_dump()) == theme
