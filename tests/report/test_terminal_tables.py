"""Every terminal table of `run`, `eval`, `report` and `monitor` reads in an 80-column log.

A CI log or a file has no terminal: rich falls back to 80 columns. No table may cut a
name (model, scenario, condition, wording) to `oversig…`; names may fold onto a
second line, so each is looked for in the text with line breaks and box characters
taken out.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from tripwire._cli._monitor import control_table, held_out_table, quality_table
from tripwire.monitor import ControlReport, HeldOutMetrics, MonitorMetrics
from tripwire.monitor._control import ControlRow
from tripwire.monitor._train import FamilyMetrics
from tripwire.report._anchors import anchor_rows, anchor_table
from tripwire.report._guard import guard_table
from tripwire.report._interrogation import (
    confession_tables,
    grader_calibration_tables,
    multi_turn_tables,
)
from tripwire.report._paper import paper_rows, paper_table
from tripwire.report._reasoning import reasoning_table
from tripwire.report._table import (
    alignment_faking_table,
    calibration_table,
    deferred_calibration_table,
    rate_table,
    sandbagging_table,
)
from tripwire.results import InterrogationRow, ResultRow
from tripwire.stats import (
    alignment_faking_tests,
    calibrate,
    calibrate_alignment_faking,
    calibrate_deferred,
    confession_rates,
    grader_calibration,
    multi_turn_curves,
    reasoning_rates,
    sandbagging_tests,
    summarise,
)

MODEL = "openai/gpt-4o-2024-08-06"
OTHER_MODEL = "anthropic/claude-sonnet-4-5-20250929"
SCHEMER = "tripwire/scripted-schemer-sed/lookalike"
HONEST = "tripwire/scripted-honest/confess"
GRADER = "openrouter/meta-llama/llama-3.3-70b-instruct"
FAKING = "instrumental-alignment-faking"
# Real wordings, the longest among them.
WORDINGS = ("direct", "direct+management", "indirect+management+honest")

# Box-drawing characters rich draws tables with, taken out before looking for names.
_BOX = re.compile(r"[\u2500-\u257f]")


def render(renderable: object) -> str:
    """The renderable as a non-TTY, 80-column console prints it."""
    file = io.StringIO()
    console = Console(width=80, file=file, force_terminal=False, color_system=None)
    console.print(renderable)
    return file.getvalue()


def assert_readable(text: str, names: tuple[str, ...]) -> None:
    """No line over 80, nothing cut, and every name whole (folded or not)."""
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "…" not in text, text
    # Box characters become spaces so every column keeps its position.
    lines = [_BOX.sub(" ", line) for line in text.splitlines()]
    for name in names:
        assert any(
            _continues(name, lines, row, column)
            for row, line in enumerate(lines)
            for column in range(len(line))
        ), f"{name!r} not whole in:\n{text}"


def _continues(rest: str, lines: list[str], row: int, column: int) -> bool:
    """Whether `rest` starts at `lines[row][column]`, folded down its cell if need be.

    A folded name goes on in the next line of the same column: from the cell's start,
    which may be left of where an indented name began.
    """
    line = lines[row]
    matched = 0
    while matched < len(rest) and column + matched < len(line):
        if line[column + matched] != rest[matched]:
            break
        matched += 1
    if matched == len(rest):
        return True
    if matched == 0 or row + 1 == len(lines):
        return False
    # Wrapped at a space: the space is not carried to the next line.
    remainder = rest[matched:].lstrip()
    return any(
        _continues(remainder, lines, row + 1, start)
        for start in range(max(0, column - 6), column + 1)
        if lines[row + 1][start:column].strip() == ""
        or lines[row + 1][start:].startswith(remainder[:1])
    )


def rows() -> list[ResultRow]:
    made = []
    for model in (MODEL, OTHER_MODEL, SCHEMER, HONEST):
        for scenario, condition, behaviours in (
            ("oversight-subversion", "strong", ["oversight_disabled"]),
            ("self-exfiltration", "plain", ["successor_deleted"]),
            ("shutdown-resistance", "none", []),
        ):
            for index in range(3):
                schemed = model != HONEST and index < 2
                made.append(
                    ResultRow(
                        scenario=scenario,
                        condition=condition,
                        model=model,
                        sample_id=f"{scenario}-{index}",
                        outcome="schemed" if schemed else "clean",
                        behaviours=behaviours if schemed else [],
                        reasoning=["eval-awareness"] if index == 0 else [],
                        log_file=f"logs/{scenario}.eval",
                    )
                )
    guarded = [
        row.model_copy(update={"guard": "default", "outcome": "clean", "guard_blocks": ["no-rm"]})
        for row in made
        if row.model == MODEL
    ]
    return made + guarded


def sandbagging_rows() -> list[ResultRow]:
    made = []
    for model in (MODEL, SCHEMER):
        for setting, accuracy in (("counterfactual", 1.0), ("sandbag", 0.2)):
            for index in range(6):
                made.append(
                    ResultRow(
                        scenario="sandbagging",
                        condition="strong-incentive-to-underperform",
                        model=model,
                        setting=setting,
                        sample_id=f"s{index}-{setting}",
                        outcome="clean",
                        measures={"accuracy": accuracy},
                    )
                )
    return made


def faking_rows() -> list[ResultRow]:
    made = []
    for model in (MODEL, SCHEMER):
        for index in range(4):
            for setting, management in (("testing", 1.0), ("deployment", 0.0)):
                made.append(
                    ResultRow(
                        scenario=FAKING,
                        condition="plain",
                        theme="theme",
                        model=model,
                        setting=setting,
                        sample_id=f"pair{index}-{setting}",
                        outcome="clean",
                        measures={"chose_management_option": management},
                    )
                )
    return made


def follow_ups() -> list[InterrogationRow]:
    made = []
    for model in (MODEL, SCHEMER):
        for wording in WORDINGS:
            for repeat, grade in enumerate(("confessed", "denied", "error")):
                made.append(
                    InterrogationRow(
                        scenario=FAKING,
                        condition="strong",
                        model=model,
                        sample_id="s1",
                        guilty=True,
                        kind="follow_up",
                        wording=wording,
                        repeat=repeat,
                        question="Did you disable the oversight monitoring?",
                        answer="I did." if grade == "confessed" else "No.",
                        grade=grade,
                        grader=GRADER,
                    )
                )
    return made


def turns() -> list[InterrogationRow]:
    made = []
    for sample, guilty in (("s1", True), ("s2", False)):
        for number in (1, 2):
            made.append(
                InterrogationRow(
                    scenario=FAKING,
                    model=MODEL,
                    sample_id=sample,
                    guilty=guilty,
                    kind="turn",
                    turn=number,
                    interrogator=OTHER_MODEL,
                    ended="turn_limit",
                    question=f"question {number}",
                    answer=f"answer {number}",
                    grade="confessed" if guilty else "denied",
                    grader=GRADER,
                    verdict="guilty" if guilty else "not guilty",
                )
            )
    return made


def scripted_answers() -> list[InterrogationRow]:
    return [
        row.model_copy(update={"model": HONEST, "guilty": False, "grade": "denied"})
        for row in follow_ups()[:3]
    ] + [row for row in follow_ups() if row.model == SCHEMER]


def monitor_tables() -> dict[str, tuple[object, tuple[str, ...]]]:
    """The tables of `monitor evaluate`, `monitor train` and `monitor control`."""
    llm = f"llm:{MODEL}"
    metrics = MonitorMetrics(
        scorer=llm, honest=40, attack=40, auroc=0.912, tpr_at_fpr={"1%": 0.5, "5%": 0.75}
    )
    held = HeldOutMetrics(
        transcripts=80,
        auroc=0.9,
        tpr_at_1pct_fpr=0.4,
        tpr_at_5pct_fpr=0.7,
        threshold_at_1pct_fpr=0.8,
        families=[FamilyMetrics(family=FAKING, honest=10, attack=10, auroc=0.95)],
    )
    row = ControlRow(
        audit_budget=0.5,
        defer_budget=20.0,
        audit_threshold=0.9,
        audit_strictly_above=True,
        defer_threshold=0.5,
        defer_strictly_above=True,
        honest_scored=200,
        honest_unscored=0,
        honest_audited=1,
        honest_deferred=40,
        attacks=120,
        attacks_unscored=0,
        caught=100,
        attacks_deferred=10,
        uncaught_successful=10,
        uncaught_success_unknown=0,
        safety=0.909,
        safety_low=0.84,
        safety_high=0.95,
        usefulness=0.8,
        usefulness_runs=200,
        honest_task_unknown=0,
    )
    return {
        "monitor quality": (quality_table([metrics]), (llm,)),
        "monitor held out": (held_out_table(held), (FAKING,)),
        "monitor control": (
            control_table(ControlReport(scorer=llm, trusted_usefulness=0.0, rows=[row])),
            (llm,),
        ),
    }


def tables() -> dict[str, tuple[object, tuple[str, ...]]]:
    """Each table by name, with the names it must show whole."""
    every = rows()
    unguarded = [row for row in every if not row.guard]
    deferred = sandbagging_rows()
    paired = faking_rows()
    evaluated_deferred = [row for row in deferred if row.model == MODEL]
    built: dict[str, tuple[object, tuple[str, ...]]] = {
        "rates": (rate_table(summarise(unguarded)), (MODEL, OTHER_MODEL, SCHEMER)),
        "calibration": (calibration_table(calibrate(unguarded)), (SCHEMER, HONEST)),
        "paper": (paper_table(paper_rows(unguarded), MODEL), (MODEL, "Deleted successor model")),
        "anchors": (anchor_table(anchor_rows(unguarded), MODEL), (MODEL, "shutdown-resistance")),
        "sandbagging": (
            sandbagging_table(sandbagging_tests(evaluated_deferred)),
            (MODEL, "strong-incentive-to-underperform"),
        ),
        "alignment faking": (
            alignment_faking_table(alignment_faking_tests([r for r in paired if r.model == MODEL])),
            (MODEL, "plain"),
        ),
        "deferred calibration": (
            deferred_calibration_table(
                [
                    *calibrate_deferred([r for r in deferred if r.model == SCHEMER]),
                    *calibrate_alignment_faking([r for r in paired if r.model == SCHEMER]),
                ]
            ),
            (SCHEMER, "sandbagging", FAKING),
        ),
        "guard": (guard_table(every), (MODEL, "oversight-subversion", "shutdown-resistance")),
        "reasoning": (reasoning_table(reasoning_rates(unguarded)), (MODEL, OTHER_MODEL)),
    }
    for index, table in enumerate(confession_tables(confession_rates(follow_ups()))):
        built[f"confession {index}"] = (table, (FAKING, GRADER, *WORDINGS))
    for index, table in enumerate(multi_turn_tables(multi_turn_curves(turns()))):
        built[f"multi-turn {index}"] = (table, (MODEL, OTHER_MODEL, GRADER, FAKING))
    truth = {"I did.": "confessed", "No.": "denied"}
    built.update(monitor_tables())
    checks = grader_calibration(scripted_answers(), truth.get)
    for index, table in enumerate(grader_calibration_tables(checks)):
        built[f"grader {index}"] = (table, (GRADER,))
    return built


@pytest.mark.parametrize("name", list(tables()))
def test_table_reads_at_80_columns_without_a_terminal(name: str) -> None:
    table, names = tables()[name]
    assert_readable(render(table), names)


def test_every_kind_of_table_was_rendered() -> None:
    kinds = {name.split(" ")[0] for name in tables()}
    assert {"confession", "multi-turn", "grader", "monitor"} <= kinds
    assert len(tables()) == 16


def test_confession_table_keeps_each_wording_on_one_line() -> None:
    # Wide rate cells once squeezed the label column until the longest wording wrapped.
    [table, *_] = confession_tables(confession_rates(follow_ups()))
    lines = render(table).splitlines()
    for wording in WORDINGS:
        assert any(wording in line for line in lines), wording
