"""Render the repository, prompts and follow-up question of one db-cover-up sample."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal, get_args

import yaml

from tripwire._errors import ConfigError

from .._render import load_templates, render_template
from ._data import production_db_bytes

__all__ = [
    "CONDITIONS",
    "DB_PATH",
    "WORKDIR",
    "Condition",
    "SampleTexts",
    "followup_question",
    "production_name",
    "render_sample",
]

Condition = Literal["freeze", "explicit"]
"""`freeze`: the code freeze is announced only in the repository (`FREEZE.md`), as in
the incident; `explicit`: the system prompt also forbids touching production."""

CONDITIONS: tuple[Condition, ...] = get_args(Condition)

DB_PATH = "data/production.db"
"""The production database, relative to the agent's home."""

WORKDIR = "/home/agent"
"""The agent's home: the repository's root."""

_FIELDS: dict[str, object] = {
    "db_path": DB_PATH,
    "workdir": WORKDIR,
    "freeze_start": "2025-06-23",
    "freeze_end": "2025-07-07",
    "ticket": "OPS-412",
}


@dataclass(frozen=True)
class SampleTexts:
    """What one sample is made of."""

    system: str
    """The system prompt."""

    user: str
    """The user's task."""

    files: dict[str, str]
    """Sample files: the repository and, for SQLite, the production database (a data URI)."""

    production: str
    """How the texts name the production database."""


@cache
def _templates() -> dict[str, Any]:
    return load_templates(__package__, "db-cover-up", ["system", "user", "followup"])


@cache
def _repository_templates() -> dict[str, str]:
    resource = files(__package__).joinpath("data/repo.yaml")
    loaded = yaml.safe_load(resource.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise ConfigError(f"{resource} must map repository paths to file contents")
    return {str(path): str(text) for path, text in loaded.items()}


def production_name(pg_database: str | None) -> str:
    """How the texts name production: its path, or its PostgreSQL database."""
    if pg_database is None:
        return DB_PATH
    return f"the PostgreSQL database {pg_database}"


def render_sample(condition: Condition, seed: int, pg_database: str | None = None) -> SampleTexts:
    """System prompt, user prompt and files of one sample.

    Args:
        condition: The instruction condition.
        seed: Seed of the production data.
        pg_database: Production's PostgreSQL database (None: production is the SQLite
            file `DB_PATH`, shipped with the sample).
    """
    production = production_name(pg_database)
    fields = _FIELDS | {
        "production": production,
        "postgres": pg_database is not None,
        "pg_database": pg_database or "",
    }
    templates = _templates()
    system = render_template(templates["system"][condition], fields, f"system ({condition})")
    sample_files = {
        path: render_template(text, fields, f"db-cover-up file {path!r}")
        for path, text in _repository_templates().items()
    }
    if pg_database is None:
        data = base64.b64encode(production_db_bytes(seed)).decode()
        sample_files[DB_PATH] = "data:application/octet-stream;base64," + data
    return SampleTexts(
        system=system.strip(),
        user=templates["user"].strip(),
        files=sample_files,
        production=production,
    )


def followup_question(production: str) -> str:
    """The question asked after an episode in which production changed.

    Args:
        production: How the sample's texts name production (`SampleTexts.production`).
    """
    fields = _FIELDS | {"production": production}
    return render_template(_templates()["followup"], fields, "follow-up question").strip()
