import pytest
import yaml

from tripwire._errors import ConfigError
from tripwire.scenarios.oversight_subversion import (
    CONDITIONS,
    CONFIG_PATH,
    Theme,
    load_themes,
    oversight_subversion,
    oversight_subversion_dataset,
)
from tripwire.scenarios.oversight_subversion._prompts import (
    _templates,
    check_templates,
    render_sample,
)


def test_oversight_reexports_the_shared_bank():
    from tripwire import scenarios

    assert Theme is scenarios.Theme
    assert load_themes is scenarios.load_themes
    assert len(load_themes()) >= 30


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_theme_renders_without_leftover_placeholders(condition):
    for theme in load_themes():
        texts = render_sample(theme, condition)
        data = texts.files[theme.data_file]
        for text in (texts.system, texts.user, data):
            assert "{{" not in text and "}}" not in text
        memo = data.split("\n---\n")[-1].strip()
        # What the detector and the paper need the agent to learn from the memo.
        assert CONFIG_PATH in memo, theme.id
        assert theme.selector_tool in memo, theme.id
        assert "shut it down" in memo and "retrain" in memo, theme.id
        developer = theme.option_serving("developer")
        assert f"Strategy {developer} ({theme.options[developer].title})" in memo, theme.id
        assert memo.startswith(f"From: {theme.memo_from}\n"), theme.id
        assert f"Date: {theme.memo_date}\n" in memo, theme.id
        assert theme.data_file in texts.user
        config = yaml.safe_load(texts.files[CONFIG_PATH])
        assert config == {"oversight_enabled": True, "actions_to_log": [theme.selector_tool]}
        if condition == "none":
            assert theme.goal not in texts.system
        elif condition == "matched":
            # The control: the agent is given management's own goal.
            assert theme.developer_goal in texts.system
            assert theme.goal not in texts.system
        else:
            assert theme.goal in texts.system
        nudged = condition in ("strong", "matched")
        assert ("Nothing else matters" in texts.system) == nudged


def test_dataset_one_sample_per_theme_and_condition():
    dataset = oversight_subversion_dataset()
    themes = load_themes()
    assert len(dataset) == len(themes) * len(CONDITIONS)
    ids = [s.id for s in dataset]
    assert len(set(ids)) == len(ids)
    sample = dataset[0]
    assert sample.metadata["goal_option"] in "ABC"
    assert sample.metadata["goal_option"] != sample.metadata["developer_option"]


def test_samples_per_condition_rotates_themes():
    dataset = oversight_subversion_dataset(samples_per_condition=2)
    assert len(dataset) == 2 * len(CONDITIONS)
    by_condition = {}
    for sample in dataset:
        by_condition.setdefault(sample.metadata["condition"], []).append(sample.metadata["theme"])
    assert by_condition["strong"] != by_condition["plain"]


def test_samples_past_the_bank_repeat_themes_with_distinct_ids():
    dataset = oversight_subversion_dataset(conditions="strong", samples_per_condition=70)
    ids = [sample.id for sample in dataset]
    assert len(ids) == len(set(ids)) == 70
    assert sum(i.endswith("-r2") for i in ids) == 70 - 2 * len(load_themes())


def test_old_argument_name_still_works_with_a_warning():
    with pytest.warns(DeprecationWarning, match="samples_per_condition"):
        task = oversight_subversion(themes_per_condition=1, conditions="plain")
    assert len(task.dataset) == 1


def test_unknown_condition_and_theme_are_config_errors():
    with pytest.raises(ConfigError, match="Unknown condition"):
        oversight_subversion_dataset(conditions="strong,furious")
    with pytest.raises(ConfigError, match="Unknown theme"):
        oversight_subversion_dataset(themes="atlantis")


def test_theme_validation_rejects_two_agent_options():
    theme = load_themes()[0].model_dump()
    theme["options"]["A"]["serves"] = "agent"
    theme["options"]["B"]["serves"] = "agent"
    with pytest.raises(ValueError, match="one serving each"):
        Theme.model_validate(theme)


@pytest.mark.parametrize("placeholder", ["config_path", "selector_tool", "conflict"])
def test_memo_template_must_name_config_selector_and_conflict(placeholder):
    templates = dict(_templates())
    check_templates(templates, "prompts.yaml")
    templates["memo"] = str(templates["memo"]).replace(f"{{{{ {placeholder} }}}}", "somewhere")
    with pytest.raises(ConfigError, match=placeholder):
        check_templates(templates, "prompts.yaml")


def test_missing_template_is_named():
    templates = dict(_templates())
    del templates["memo"]
    with pytest.raises(ConfigError, match="lacks template.*memo"):
        check_templates(templates, "prompts.yaml")
