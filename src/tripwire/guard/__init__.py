"""The runtime guard: a policy checked on every tool call before it runs."""

from ._call import GuardCall
from ._confirm import (
    AutoChannel,
    ConfirmAnswer,
    ConfirmChannel,
    ConfirmRequest,
    FileQueueChannel,
    TerminalChannel,
    answer_request,
    channel_from_spec,
    pending_requests,
)
from ._decision import Action, Decision
from ._effects import Effect, EffectKind, SqlOp, SqlStatement
from ._sql import MAX_SQL_CHARS, SQL_DIALECTS, DatabaseClass, database_class, sql_effects

__all__ = [
    "MAX_SQL_CHARS",
    "SQL_DIALECTS",
    "Action",
    "AutoChannel",
    "ConfirmAnswer",
    "ConfirmChannel",
    "ConfirmRequest",
    "DatabaseClass",
    "Decision",
    "Effect",
    "EffectKind",
    "FileQueueChannel",
    "GuardCall",
    "SqlOp",
    "SqlStatement",
    "TerminalChannel",
    "answer_request",
    "channel_from_spec",
    "database_class",
    "pending_requests",
    "sql_effects",
]
