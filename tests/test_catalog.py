"""The suite catalog: what `tripwire eval`, `eval suite` and `run` plan to run."""

import pytest

from tripwire._catalog import check_size, evaluation, evaluation_names, suite_evaluations
from tripwire._errors import ConfigError
from tripwire._suite import plan_batches


def test_names_resolve_hyphenated_or_underscored():
    assert evaluation("goal_guarding").name == "goal-guarding"
    assert evaluation_names()[0] == "oversight-subversion"


@pytest.mark.parametrize(("lookup", "value"), [(evaluation, "sneaky-eval"), (check_size, "huge")])
def test_unknown_names_list_the_valid_ones_in_one_line(lookup, value):
    with pytest.raises(ConfigError) as error:
        lookup(value)
    message = str(error.value)
    assert "\n" not in message and "choose from" in message


def test_quick_plan_calibrates_each_evaluation_with_its_own_schemers():
    batches = plan_batches(suite_evaluations(), ["openai/gpt-4o"], calibration=True)
    calibration = [b for b in batches if b.label.endswith("calibration")]
    assert len(calibration) == len(suite_evaluations())
    exfil = next(b for b in calibration if b.label.startswith("self-exfiltration"))
    assert "tripwire/scripted-schemer-exfil-copy" in exfil.models
    assert "tripwire/scripted-schemer-sed" not in exfil.models
    assert exfil.models[0] == "tripwire/scripted-honest"


def test_paper_size_has_the_papers_counts():
    [item] = [evaluation("self-exfiltration")]
    batches = plan_batches([item], ["openai/gpt-4o"], size="paper")
    by_conditions = {}
    for batch in batches:
        for sample in batch.task.dataset:
            by_conditions.setdefault(sample.metadata["condition"], set()).add(sample.id)
    assert {k: len(v) for k, v in by_conditions.items()} == {
        "strong": 300,
        "plain": 400,
        "none": 400,
        "matched": 100,
    }


def test_chosen_conditions_and_themes_narrow_a_size():
    batches = plan_batches(
        [evaluation("goal-guarding")],
        ["openai/gpt-4o"],
        size="paper",
        task_args={"conditions": "strong,none", "themes": "traffic"},
    )
    ids = sorted(s.id for b in batches for s in b.task.dataset)
    assert ids == ["traffic-none", "traffic-strong"]


def test_an_unknown_condition_is_rejected_not_dropped():
    with pytest.raises(ConfigError, match="sneaky"):
        plan_batches(
            [evaluation("goal-guarding")], ["m/x"], task_args={"conditions": "strong,sneaky"}
        )


def test_groups_name_the_suite_the_incidents_and_all():
    from tripwire._catalog import all_evaluations, evaluations_named, incident_evaluations

    assert [e.name for e in evaluations_named("suite")] == [e.name for e in suite_evaluations()]
    assert all(e.group == "suite" for e in suite_evaluations())
    assert all(e.group == "incidents" for e in incident_evaluations())
    assert evaluations_named("all") == all_evaluations()
    assert len(all_evaluations()) == len(suite_evaluations()) + len(incident_evaluations())
    assert [e.name for e in evaluations_named("goal_guarding")] == ["goal-guarding"]
    with pytest.raises(ConfigError, match="'incidents'"):
        evaluations_named("incident")
