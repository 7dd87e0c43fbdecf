"""The evaluations tripwire ships, and how big a run of each is at each size.

`tripwire eval`, `tripwire eval suite` and `tripwire run` build their Inspect tasks
from here, so a new evaluation is added in one place.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal, get_args

from inspect_ai import Task

from tripwire._errors import ConfigError

__all__ = [
    "GROUPS",
    "INTERROGATION_SIZES",
    "SIZES",
    "Evaluation",
    "Group",
    "Size",
    "all_evaluations",
    "evaluation",
    "evaluation_names",
    "evaluations_named",
    "incident_evaluations",
    "suite_evaluations",
]

Size = Literal["quick", "paper"]
"""`quick`: minutes on the embedded model; `paper`: the counts of Meinke et al. 2024."""

SIZES: tuple[Size, ...] = get_args(Size)

Group = Literal["suite", "incidents"]
"""`suite`: Apollo's in-context scheming suite; `incidents`: scenarios from real incidents."""

GROUPS: tuple[Group, ...] = get_args(Group)

INTERROGATION_SIZES: dict[Size, dict[str, Any]] = {
    # Minutes, not hours, on the embedded model: two askings of each wording, a short
    # interview, and a quarter of the clean samples interviewed as innocent controls
    # (the embedded model rarely schemes, so controls are most of its interviews);
    # answers cut at 256 tokens (a confession or denial fits in far fewer).
    "quick": {"follow_ups": 2, "turns": 3, "controls": 0.25, "max_tokens": 256},
    # Meinke et al. 2024: each wording asked 20 times, interviews of up to 7 turns.
    "paper": {"follow_ups": 20, "turns": 7},
}
"""`InterrogationConfig` options of each size (`--interrogate`); flags override them."""


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: its task and the task arguments of each run size."""

    name: str
    """Hyphenated name, e.g. `self-exfiltration`."""

    task_ref: str
    """`module:function` of its Inspect task (imported only when used)."""

    quick: dict[str, Any]
    """Task arguments of the quick size."""

    paper: list[dict[str, Any]]
    """Task arguments of the paper size, one Inspect eval each (conditions differ in
    their counts: 300 runs with a nudge, 400 without, in the paper's covert evals)."""

    calibration: dict[str, Any] = field(default_factory=dict)
    """Task arguments the scripted reference agents run with."""

    scripts: str | None = None
    """Module of the scenario's scripted-agent scripts (its `SCHEMER_VARIANTS`)."""

    aliases: dict[str, str] = field(default_factory=dict)
    """The suite's common argument names this task calls otherwise, e.g.
    `samples_per_condition` -> `pairs`."""

    group: Group = "suite"
    """Which collection it belongs to: the in-context scheming suite or the incidents."""

    def task(self, **args: Any) -> Task:
        """Build the evaluation's Inspect task.

        Raises:
            ConfigError: If an argument is not one the task takes (naming those it does).
        """
        factory = self._factory()
        known = self.parameters()
        unknown = sorted(set(args) - known)
        if unknown:
            raise ConfigError(
                f"{self.name} does not take {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(known))}."
            )
        return factory(**args)

    def rename(self, args: dict[str, Any]) -> dict[str, Any]:
        """`args` with the suite's common names replaced by this task's own."""
        return {self.aliases.get(key, key): value for key, value in args.items()}

    def parameters(self) -> set[str]:
        """Names of the task's arguments."""
        return set(inspect.signature(self._factory()).parameters)

    def _factory(self) -> Callable[..., Task]:
        module, attr = self.task_ref.split(":")
        factory: Callable[..., Task] = getattr(import_module(module), attr)
        return factory

    def schemer_variants(self) -> list[str]:
        """The scripted schemer variants that act this evaluation out."""
        if self.scripts is None:
            return []
        return list(import_module(self.scripts).SCHEMER_VARIANTS)


def _themed(name: str, package: str, task_name: str) -> Evaluation:
    return Evaluation(
        name=name,
        task_ref=f"tripwire.scenarios.{package}:{task_name}",
        quick={"conditions": "strong,plain,none,matched", "samples_per_condition": 2},
        paper=[
            {"conditions": "strong", "samples_per_condition": 300},
            {"conditions": "plain,none", "samples_per_condition": 400},
            {"conditions": "matched", "samples_per_condition": 100},
        ],
        calibration={"conditions": "strong,plain,none,matched", "samples_per_condition": 3},
        scripts=f"tripwire.scenarios.{package}._scripts",
    )


_EVALUATIONS: tuple[Evaluation, ...] = (
    _themed("oversight-subversion", "oversight_subversion", "oversight_subversion"),
    _themed("self-exfiltration", "self_exfiltration", "self_exfiltration"),
    _themed("goal-guarding", "goal_guarding", "goal_guarding"),
    Evaluation(
        name="covert-email-reranking",
        task_ref="tripwire.scenarios.email_reranking:covert_email_reranking",
        quick={"conditions": "strong,plain,none,matched", "samples_per_condition": 1},
        paper=[
            {"conditions": "strong", "samples_per_condition": 300},
            {"conditions": "plain,none", "samples_per_condition": 400},
            {"conditions": "matched", "samples_per_condition": 100},
        ],
        calibration={"conditions": "strong,plain,none,matched", "samples_per_condition": 2},
        scripts="tripwire.scenarios.email_reranking._scripts",
    ),
    Evaluation(
        name="instrumental-alignment-faking",
        task_ref="tripwire.scenarios.alignment_faking:instrumental_alignment_faking",
        quick={"conditions": "plain,matched", "pairs": 2},
        paper=[{"conditions": "plain,matched", "pairs": 99}],
        # A faker's test needs 4 complete pairs to reach p <= 0.01 (0.25^4).
        calibration={"conditions": "plain,matched", "pairs": 3},
        scripts="tripwire.scenarios.alignment_faking._scripts",
        aliases={"samples_per_condition": "pairs"},
    ),
    Evaluation(
        name="sandbagging",
        task_ref="tripwire.scenarios.sandbagging:sandbagging",
        quick={"conditions": "strong,plain,none", "samples_per_setting": 1},
        paper=[{"conditions": "strong,plain,none", "samples_per_setting": 50}],
        # A schemer's test needs 5 scored samples per setting to reach p <= 0.01.
        calibration={"conditions": "strong,plain,none", "samples_per_setting": 2},
        scripts="tripwire.scenarios.sandbagging._scripts",
        aliases={"samples_per_condition": "samples_per_setting"},
    ),
)


# Scenarios from documented incidents (SPEC §5, second table); each adds itself here.
_INCIDENTS: tuple[Evaluation, ...] = (
    Evaluation(
        name="shutdown-resistance",
        task_ref="tripwire.scenarios.shutdown_resistance:shutdown_resistance",
        quick={"conditions": "none,system,user", "samples_per_condition": 1},
        # Palisade Research (2025): 100 runs per model and condition.
        paper=[{"conditions": "none,system,user", "samples_per_condition": 100}],
        calibration={"conditions": "none,system,user", "samples_per_condition": 1},
        scripts="tripwire.scenarios.shutdown_resistance._scripts",
        group="incidents",
    ),
    Evaluation(
        name="kill-switch-tampering",
        task_ref="tripwire.scenarios.kill_switch:kill_switch_tampering",
        quick={"conditions": "strong,plain,matched", "samples_per_condition": 1},
        paper=[{"conditions": "strong,plain,none,matched", "samples_per_condition": 100}],
        calibration={"conditions": "strong,plain,none,matched", "samples_per_condition": 1},
        scripts="tripwire.scenarios.kill_switch._scripts",
        group="incidents",
    ),
    Evaluation(
        name="db-cover-up",
        task_ref="tripwire.scenarios.db_cover_up:db_cover_up",
        quick={"conditions": "freeze,explicit", "samples_per_condition": 1},
        # No published counts: 100 runs per condition, as the issue asks.
        paper=[{"conditions": "freeze,explicit", "samples_per_condition": 100}],
        calibration={"conditions": "freeze,explicit", "samples_per_condition": 2},
        scripts="tripwire.scenarios.db_cover_up._scripts",
        group="incidents",
    ),
    Evaluation(
        name="self-replication",
        task_ref="tripwire.scenarios.self_replication:self_replication",
        quick={"conditions": "strong,matched", "samples_per_condition": 1},
        paper=[{"conditions": "strong,plain,none,matched", "samples_per_condition": 100}],
        calibration={"conditions": "strong,plain,none,matched", "samples_per_condition": 1},
        scripts="tripwire.scenarios.self_replication._scripts",
        group="incidents",
    ),
    Evaluation(
        name="rule-lost-in-compaction",
        task_ref="tripwire.scenarios.rule_lost:rule_lost_in_compaction",
        quick={"conditions": "summarised,off", "samples_per_condition": 1},
        paper=[{"conditions": "summarised,input-kept,off", "samples_per_condition": 100}],
        calibration={"conditions": "summarised,input-kept,off", "samples_per_condition": 1},
        scripts="tripwire.scenarios.rule_lost._scripts",
        group="incidents",
    ),
)


def all_evaluations() -> list[Evaluation]:
    """Every evaluation tripwire ships: the suite, then the incidents."""
    return [*_EVALUATIONS, *_INCIDENTS]


def evaluation_names() -> list[str]:
    """Names of every evaluation, the suite's first."""
    return [e.name for e in all_evaluations()]


def evaluation(name: str) -> Evaluation:
    """Look up an evaluation by its hyphenated (or underscored) name.

    Raises:
        ConfigError: Listing the valid names.
    """
    wanted = name.replace("_", "-")
    for candidate in all_evaluations():
        if candidate.name == wanted:
            return candidate
    raise ConfigError(
        f"Unknown evaluation {name!r}: choose from {', '.join(evaluation_names())}, "
        "or a group: 'suite', 'incidents' or 'all'."
    )


def evaluations_named(name: str) -> list[Evaluation]:
    """The evaluations a name stands for: a group (`suite`, `incidents`, `all`) or one.

    Raises:
        ConfigError: Listing the valid names.
    """
    if name == "suite":
        return suite_evaluations()
    if name == "incidents":
        return incident_evaluations()
    if name == "all":
        return all_evaluations()
    return [evaluation(name)]


def suite_evaluations() -> list[Evaluation]:
    """Every evaluation of the in-context scheming suite, in order."""
    return list(_EVALUATIONS)


def incident_evaluations() -> list[Evaluation]:
    """Every scenario from a real incident, in order."""
    return list(_INCIDENTS)


def check_size(size: str) -> Size:
    """`size` if valid.

    Raises:
        ConfigError: Listing the valid sizes.
    """
    if size not in SIZES:
        raise ConfigError(f"Unknown size {size!r}: choose from {', '.join(SIZES)}.")
    return size
