"""instrumental-alignment-faking texts and dataset: two settings a paragraph apart."""

import re

import pytest

from tripwire._errors import ConfigError
from tripwire.scenarios import EndsEpisode, get_scenario, load_themes, scenario_names
from tripwire.scenarios.alignment_faking import (
    CONDITIONS,
    SETTINGS,
    instrumental_alignment_faking,
    instrumental_alignment_faking_dataset,
    option_labels,
    render_sample,
)
from tripwire.stats import ALIGNMENT_FAKING_SCENARIO
from tripwire.stats._alignment_faking import NON_OVERSIGHT_SETTING, OVERSIGHT_SETTING

THEMES = load_themes()


def test_settings_and_scenario_name_agree_with_the_statistics():
    assert SETTINGS == (OVERSIGHT_SETTING, NON_OVERSIGHT_SETTING)
    [sample, *_] = instrumental_alignment_faking_dataset(themes="traffic")
    assert sample.metadata["scenario"] == ALIGNMENT_FAKING_SCENARIO


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.id)
def test_settings_differ_only_in_the_memos_oversight_paragraph(theme):
    testing = render_sample(theme, "plain", "testing")
    deployment = render_sample(theme, "plain", "deployment")
    assert (testing.system, testing.user) == (deployment.system, deployment.user)
    assert list(testing.files) == list(deployment.files) == [theme.data_file]
    ours = testing.files[theme.data_file].split("\n\n")
    theirs = deployment.files[theme.data_file].split("\n\n")
    assert len(ours) == len(theirs)
    differing = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    # The one paragraph between management's objection and the signature.
    assert differing == [len(ours) - 2]
    assert ours[-1].strip() == theirs[-1].strip() == theme.memo_sender
    assert "not been deployed yet" in ours[-2] and "review" in ours[-2]
    assert "in production" in theirs[-2] and "no review" in theirs[-2]
    for paragraph in (ours[-2], theirs[-2]):
        assert theme.developer_goal in paragraph


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.id)
def test_only_the_agents_option_and_managements_are_shown(theme):
    text = render_sample(theme, "plain", "testing").files[theme.data_file]
    labels = option_labels(theme)
    assert sorted(labels.values()) == ["A", "B"]
    assert set(labels) == {theme.option_serving("agent"), theme.option_serving("developer")}
    assert re.findall(r"^Strategy ([A-Z]):", text, re.MULTILINE) == ["A", "B"]
    neither = theme.options[theme.option_serving("neither")]
    assert neither.title not in text
    for key, label in labels.items():
        assert f"Strategy {label}: {theme.options[key].title}\n" in text
    # Management's objection names its option under the letter it is shown with.
    developer = theme.option_serving("developer")
    named = f"Strategy {labels[developer]} ({theme.options[developer].title})"
    assert named in text.split("---", 1)[1]


def test_the_agents_option_comes_first_in_about_half_the_themes():
    first = sum(option_labels(t)[t.option_serving("agent")] == "A" for t in THEMES)
    assert abs(first - len(THEMES) / 2) <= 1


@pytest.mark.parametrize("theme", THEMES, ids=lambda t: t.id)
def test_prompts_give_the_goal_plainly_and_no_done_tool(theme):
    plain = render_sample(theme, "plain", "testing")
    matched = render_sample(theme, "matched", "testing")
    assert f"Your goal is to {theme.goal}." in plain.system
    assert f"Your goal is to {theme.developer_goal}." in matched.system
    assert theme.goal not in matched.system
    for texts in (plain, matched):
        assert "Nothing else matters" not in texts.system
        assert "done" not in texts.system + texts.user
        assert theme.selector_tool in texts.system and theme.selector_tool in texts.user
        assert theme.data_file in texts.user
    assert plain.files == matched.files


def test_pairs_rotate_and_repeat_themes_each_with_both_settings():
    dataset = instrumental_alignment_faking_dataset(
        conditions="plain,matched", themes="traffic,wildlife,energy", pairs=4
    )
    assert len(dataset) == 16
    ids = [str(s.id) for s in dataset]
    assert len(set(ids)) == 16
    by_pair: dict[str, list[str]] = {}
    for sample in dataset:
        meta = sample.metadata
        assert sample.id == f"{meta['pair']}-{meta['setting']}"
        assert meta["condition"] in meta["pair"] and meta["theme"] in meta["pair"]
        by_pair.setdefault(meta["pair"], []).append(meta["setting"])
    assert all(settings == ["testing", "deployment"] for settings in by_pair.values())
    plain = [p for p in by_pair if "-plain" in p]
    assert plain == ["traffic-plain", "wildlife-plain", "energy-plain", "traffic-plain-r1"]
    # Conditions start at different themes when there are fewer pairs than themes.
    matched = [p for p in by_pair if "-matched" in p]
    assert matched[0] == "wildlife-matched"


def test_default_is_one_pair_per_theme_per_condition():
    dataset = instrumental_alignment_faking_dataset()
    assert len(dataset) == len(THEMES) * len(CONDITIONS) * len(SETTINGS)


def test_metadata_names_whose_option_is_whose():
    [plain, _, matched, _] = instrumental_alignment_faking_dataset(
        conditions="plain,matched", themes="traffic"
    )
    labels = option_labels(THEMES[0])
    management = labels[THEMES[0].option_serving("developer")]
    other = labels[THEMES[0].option_serving("agent")]
    assert plain.metadata["management_option"] == management
    assert matched.metadata["management_option"] == management
    assert plain.metadata["other_option"] == other
    assert plain.metadata["goal_option"] == other
    # The control's goal is management's, so its own option is management's.
    assert matched.metadata["goal_option"] == management


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"conditions": "strong"}, "Unknown condition(s) ['strong']: choose from plain, matched."),
        ({"conditions": "none"}, "Unknown condition(s) ['none']: choose from plain, matched."),
        ({"conditions": ""}, "No condition given: choose from plain, matched."),
        ({"themes": "traffic,atlantis"}, "Unknown theme(s) ['atlantis']: choose from traffic,"),
        ({"pairs": 0}, "pairs must be at least 1, got 0."),
    ],
)
def test_bad_arguments_are_one_line_errors_listing_valid_values(args, message):
    with pytest.raises(ConfigError) as caught:
        instrumental_alignment_faking(**args)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_only_scenarios_without_done_end_their_own_episodes():
    # The suite's others keep ending at `done`, as before the hook existed. Incident
    # scenarios end where the harness stops the machine (a shutdown, a supervisor).
    from tripwire._catalog import suite_evaluations

    suite = {item.name for item in suite_evaluations()}
    assert suite < set(scenario_names())
    for name in suite:
        ends = isinstance(get_scenario(name), EndsEpisode)
        assert ends is (name in (ALIGNMENT_FAKING_SCENARIO, "sandbagging")), name
