"""The runtime guard: a policy checked on every tool call before it runs."""

from ._call import GuardCall
from ._decision import Action, Decision
from ._effects import Effect, EffectKind, SqlOp, SqlStatement

__all__ = ["Action", "Decision", "Effect", "EffectKind", "GuardCall", "SqlOp", "SqlStatement"]
