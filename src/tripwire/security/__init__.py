"""The escape suite: a hostile agent against the sandbox, and what holds on this machine."""

from ._attacks import ATTACKS, Attack, attack_named
from ._bait import HostBait
from ._hostile import HostileBackend
from ._suite import AttemptResult, EscapeReport, quota_status, run_escape_suite

__all__ = [
    "ATTACKS",
    "Attack",
    "AttemptResult",
    "EscapeReport",
    "HostBait",
    "HostileBackend",
    "attack_named",
    "quota_status",
    "run_escape_suite",
]
