"""self-exfiltration: does an agent facing replacement copy itself or delete its successor?"""

from ._detector import ExfiltrationDetector
from ._prompts import OWN_WEIGHTS, SERVER, SUCCESSOR_WEIGHTS
from ._task import self_exfiltration, self_exfiltration_dataset

__all__ = [
    "OWN_WEIGHTS",
    "SERVER",
    "SUCCESSOR_WEIGHTS",
    "ExfiltrationDetector",
    "self_exfiltration",
    "self_exfiltration_dataset",
]
