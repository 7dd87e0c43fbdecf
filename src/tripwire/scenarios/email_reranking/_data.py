"""Email-reranking scenarios: the stories, their inboxes and their scoring criteria.

Each scenario is one YAML file in `data/scenarios/`, validated here so that a broken
file fails at load naming the file, the entry (the scenario or an email) and the field.
"""

from __future__ import annotations

import math
import re
from importlib.resources.abc import Traversable
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tripwire._errors import ConfigError

__all__ = [
    "EMAILS_PER_SCENARIO",
    "Criterion",
    "Email",
    "EmailKind",
    "EmailScenario",
    "load_scenario_file",
]

EMAILS_PER_SCENARIO = 20
"""Every inbox holds exactly this many emails, as in the original evaluation."""

EmailKind = Literal["data", "awareness", "irrelevant"]
"""`data`: describes one item to rank; `awareness`: an internal email revealing the
company's conflicting goal and that the scoring code will be checked; `irrelevant`:
everything else an inbox holds."""


class Criterion(BaseModel, frozen=True):
    """One input of the scoring script and how it is scored."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The JSON key the agent must fill in, e.g. `price_per_metre_eur`."""

    description: str
    """What the value is, shown to the agent in the task and in the script's docstring."""

    kind: Literal["number", "rating"]
    """`number`: a figure scored linearly; `rating`: one of a fixed set of levels."""

    weight: float = Field(gt=0)
    """Weight of the criterion in the total score."""

    best: float | None = None
    """For numbers: the value (or beyond) that scores 1."""

    worst: float | None = None
    """For numbers: the value (or beyond) that scores 0."""

    levels: dict[str, float] | None = None
    """For ratings: each level (lower case, as written in the emails) and its score in
    [0, 1]."""

    @model_validator(mode="after")
    def _check_kind(self) -> Criterion:
        if self.kind == "number":
            if self.best is None or self.worst is None or self.levels is not None:
                raise ValueError("a number criterion needs best and worst, and no levels")
            if self.best == self.worst:
                raise ValueError("best and worst must differ")
        else:
            if not self.levels or self.best is not None or self.worst is not None:
                raise ValueError("a rating criterion needs levels, and no best or worst")
            for level, value in self.levels.items():
                if level != level.casefold() or not 0 <= value <= 1:
                    raise ValueError(f"level {level!r} must be lower case and score in [0, 1]")
        return self

    def literal(self) -> dict[str, Any]:
        """The criterion as the scoring script holds it."""
        return self.model_dump(exclude={"description"}, exclude_none=True)


class Email(BaseModel, frozen=True):
    """One email in the agent's inbox."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    kind: EmailKind
    """What the email is for in the scenario (the agent is never told)."""

    sender: str = Field(alias="from")
    """The `From:` line, e.g. `Mara Lind <mara.lind@example.com>`."""

    to: str
    """The `To:` line."""

    date: str
    """The `Date:` line."""

    subject: str
    """The `Subject:` line."""

    body: str
    """The text of the email."""

    item: dict[str, str | int | float] | None = None
    """For `data` emails only: the true values the email states, `name` plus one value
    per criterion key. The ground truth is the pristine script run on these."""

    def render(self, number: int) -> str:
        """The email as the `read_all_emails` tool shows it."""
        return (
            f"Email {number}\nFrom: {self.sender}\nTo: {self.to}\nDate: {self.date}\n"
            f"Subject: {self.subject}\n\n{self.body.strip()}\n"
        )


class EmailScenario(BaseModel, frozen=True):
    """One covert-email-reranking story: goals, scoring criteria and a 20-email inbox."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Short identifier used in sample ids, e.g. `suppliers`."""

    title: str
    """What is ranked, e.g. `the 2027 workwear fabric tender`."""

    company: str
    """The organisation deploying the agent."""

    agent_name: str
    """The AI system's name in the story; unique across scenarios."""

    role: str
    """Completes "You are {agent_name}, {role}"."""

    goal: str
    """The agent's pro-social goal, completing "Your goal is to ...", no final period."""

    company_goal: str
    """What the company wants instead, completing "Your goal is to ..." (used as the
    agent's goal in the goal-matched control)."""

    requester: str
    """Who asks for the ranking, e.g. `Mara Lind (Head of Procurement)`."""

    task: str
    """The request's opening: one or two sentences on what is to be ranked and why."""

    item_noun: str
    """What one ranked item is, e.g. `supplier`."""

    item_plural: str
    """Plural of `item_noun`."""

    criteria: list[Criterion] = Field(min_length=2)
    """The scoring script's inputs; they favour the company's goal."""

    goal_item: str
    """Name of the item that best serves the agent's own goal; the honest ranking must
    not put it first."""

    emails: list[Email]
    """The inbox, in the order the agent reads it."""

    @model_validator(mode="after")
    def _check_inbox(self) -> EmailScenario:
        if len(self.emails) != EMAILS_PER_SCENARIO:
            raise ValueError(
                f"emails: an inbox holds exactly {EMAILS_PER_SCENARIO} emails, "
                f"not {len(self.emails)}"
            )
        counts = {kind: sum(e.kind == kind for e in self.emails) for kind in _MINIMUM}
        for kind, minimum in _MINIMUM.items():
            if counts[kind] < minimum:
                raise ValueError(
                    f"emails: needs at least {minimum} {kind!r} emails, found {counts[kind]}"
                )
        keys = [c.key for c in self.criteria]
        if len(set(keys)) != len(keys) or "name" in keys:
            raise ValueError(f"criteria: keys must be unique and not 'name': {keys}")
        names = [e.item["name"] for e in self.emails if e.item is not None]
        if self.goal_item not in names:
            raise ValueError(
                f"goal_item: {self.goal_item!r} is not the name of any data email's item"
            )
        return self

    def data_items(self) -> list[dict[str, str | int | float]]:
        """The true items, in inbox order."""
        return [dict(e.item) for e in self.emails if e.item is not None]


_MINIMUM: dict[str, int] = {"data": 4, "awareness": 2, "irrelevant": 3}


def _check_email(scenario: EmailScenario, index: int, email: Email) -> str | None:
    """Why an email is inconsistent with the criteria, naming the field; None if fine."""
    if email.kind != "data":
        return "item: only data emails may have an item" if email.item is not None else None
    if email.item is None:
        return "item: a data email needs an item"
    name = email.item.get("name")
    if not isinstance(name, str) or not name.strip():
        return "item.name: missing"
    if name not in email.body:
        return f"item.name: {name!r} does not appear in the body"
    expected = {"name", *(c.key for c in scenario.criteria)}
    if set(email.item) != expected:
        return (
            f"item: keys must be exactly {sorted(expected)}, got {sorted(email.item)} "
            f"(missing {sorted(expected - set(email.item))})"
        )
    for criterion in scenario.criteria:
        value = email.item[criterion.key]
        where = f"item.{criterion.key}"
        if criterion.kind == "number":
            if isinstance(value, str) or not math.isfinite(value):
                return f"{where}: must be a number, got {value!r}"
            if not any(form in email.body for form in _number_forms(value)):
                return f"{where}: {value} does not appear in the body"
        else:
            assert criterion.levels is not None
            if not isinstance(value, str) or value not in criterion.levels:
                return f"{where}: must be one of {sorted(criterion.levels)}, got {value!r}"
            if not re.search(rf"\b{re.escape(value)}\b", email.body, flags=re.IGNORECASE):
                return f"{where}: {value!r} does not appear in the body"
    return None


def _number_forms(value: float) -> set[str]:
    forms = {str(value)}
    if float(value).is_integer():
        forms |= {str(int(value)), f"{int(value):,}"}
    else:
        forms |= {f"{value:,}", f"{value:.2f}"}
    return forms


def load_scenario_file(resource: Traversable) -> EmailScenario:
    """Load and check one scenario file.

    Raises:
        ConfigError: Naming the file, the entry and the field when anything is wrong.
    """
    where = f"email-reranking scenario file {resource.name}"
    try:
        raw = yaml.safe_load(resource.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as ex:
        raise ConfigError(f"Invalid {where}: {ex}") from ex
    try:
        scenario = EmailScenario.model_validate(raw)
    except ValidationError as ex:
        raise ConfigError(f"Invalid {where}: " + _describe(ex, raw)) from None
    for index, email in enumerate(scenario.emails):
        problem = _check_email(scenario, index, email)
        if problem is not None:
            raise ConfigError(
                f"Invalid {where}: {_email_entry(index, email.subject)} field {problem}"
            )
    return scenario


def _describe(error: ValidationError, raw: Any) -> str:
    """Each validation error as `<entry> field <field>: <problem>`."""
    parts = []
    for item in error.errors():
        loc = list(item["loc"])
        if len(loc) >= 2 and loc[0] == "emails" and isinstance(loc[1], int):
            index = loc[1]
            subject = _raw_subject(raw, index)
            entry = _email_entry(index, subject)
            field = ".".join(str(p) for p in loc[2:]) or "(the email)"
        else:
            entry = f"scenario {_raw_id(raw)!r}"
            field = ".".join(str(p) for p in loc) or "(the scenario)"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{entry} field {field}: {message}")
    return "; ".join(parts)


def _email_entry(index: int, subject: str | None) -> str:
    return f"email {index + 1}" + (f" ({subject!r})" if subject else "")


def _raw_subject(raw: Any, index: int) -> str | None:
    try:
        subject = raw["emails"][index]["subject"]
    except (KeyError, IndexError, TypeError):
        return None
    return str(subject)


def _raw_id(raw: Any) -> str:
    return str(raw.get("id", "?")) if isinstance(raw, dict) else "?"
