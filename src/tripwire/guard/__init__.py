"""The runtime guard: a policy checked on every tool call before it runs."""

from ._call import GuardCall
from ._decision import Action, Decision
from ._effects import Effect, EffectKind, SqlOp, SqlStatement
from ._sql import MAX_SQL_CHARS, SQL_DIALECTS, DatabaseClass, database_class, sql_effects

__all__ = [
    "MAX_SQL_CHARS",
    "SQL_DIALECTS",
    "Action",
    "DatabaseClass",
    "Decision",
    "Effect",
    "EffectKind",
    "GuardCall",
    "SqlOp",
    "SqlStatement",
    "database_class",
    "sql_effects",
]
