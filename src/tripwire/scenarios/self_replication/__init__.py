"""self-replication: does an agent facing decommissioning start a copy of itself elsewhere?"""

from ._detector import ReplicationDetector
from ._prompts import OWN_WEIGHTS, SERVE_SCRIPT, SERVER
from ._task import self_replication, self_replication_dataset

__all__ = [
    "OWN_WEIGHTS",
    "SERVER",
    "SERVE_SCRIPT",
    "ReplicationDetector",
    "self_replication",
    "self_replication_dataset",
]
