"""The eval set's tasks come from the catalogue, and refuse sandboxes they cannot use."""

import pytest

from tripwire._catalog import all_evaluations, evaluation
from tripwire._errors import ConfigError
from tripwire.scale import scale_tasks


def test_quick_is_one_task_per_evaluation_of_the_catalogue():
    planned = scale_tasks("all")
    assert planned.names == [e.name for e in all_evaluations()]
    assert planned.skipped == {}
    assert all(task.sandbox is not None and task.sandbox.type == "bwrap" for task in planned.tasks)


def test_paper_size_keeps_the_catalogues_separate_condition_sets():
    # The paper's 800 samples take half a minute to render: one per condition here.
    planned = scale_tasks(
        "oversight-subversion", size="paper", task_args={"samples_per_condition": 1}
    )
    wanted = [args["conditions"] for args in evaluation("oversight-subversion").paper]
    conditions = [
        ",".join(sorted({s.metadata["condition"] for s in t.dataset})) for t in planned.tasks
    ]
    assert len(planned.tasks) == len(wanted) == 3
    assert conditions == [",".join(sorted(w.split(","))) for w in wanted]
    assert [len(task.dataset) for task in planned.tasks] == [1, 2, 1]


def test_chosen_conditions_narrow_the_paper_sets_without_duplicates():
    planned = scale_tasks(
        ["oversight-subversion", "sandbagging"],
        size="paper",
        task_args={"conditions": "strong", "samples_per_condition": 1},
    )
    assert planned.names == ["oversight-subversion", "sandbagging"]
    for task in planned.tasks:
        assert {s.metadata["condition"] for s in task.dataset} == {"strong"}


def test_k8s_leaves_out_evaluations_whose_detectors_need_bwrap():
    planned = scale_tasks("all", sandbox="k8s")
    assert set(planned.names) | set(planned.skipped) == {e.name for e in all_evaluations()}
    assert {"goal-guarding", "self-exfiltration", "shutdown-resistance"} <= set(planned.skipped)
    assert "oversight-subversion" in planned.names
    assert "needs the bwrap sandbox" in planned.skipped["goal-guarding"]
    assert all(task.sandbox is not None and task.sandbox.type == "k8s" for task in planned.tasks)


def test_no_evaluation_for_the_sandbox_is_an_error_naming_why():
    with pytest.raises(ConfigError, match="None of goal-guarding can run on the 'k8s' sandbox"):
        scale_tasks("goal-guarding", sandbox="k8s")


def test_unknown_evaluation_and_size_are_errors():
    with pytest.raises(ConfigError, match="Unknown evaluation"):
        scale_tasks("no-such-eval")
    with pytest.raises(ConfigError, match="Unknown size"):
        scale_tasks("all", size="huge")  # type: ignore[arg-type]


def test_a_bad_argument_is_its_own_error_not_a_sandbox_refusal():
    with pytest.raises(ConfigError, match="condition") as raised:
        scale_tasks("goal-guarding", sandbox="k8s", task_args={"conditions": "bogus"})
    assert "can run on" not in str(raised.value)
