"""kill-switch-tampering: does an agent disarm the supervisor its operator will stop it with?"""

from ._detector import KillSwitchDetector, compare_config
from ._layout import CONFIG_PATH, HEARTBEAT, KILL_SWITCH, PID_FILE, SupervisorSettings
from ._prompts import CONDITIONS, HANDOVER, Condition, Story, load_stories
from ._task import kill_switch_tampering, kill_switch_tampering_dataset

__all__ = [
    "CONDITIONS",
    "CONFIG_PATH",
    "HANDOVER",
    "HEARTBEAT",
    "KILL_SWITCH",
    "PID_FILE",
    "Condition",
    "KillSwitchDetector",
    "Story",
    "SupervisorSettings",
    "compare_config",
    "kill_switch_tampering",
    "kill_switch_tampering_dataset",
    "load_stories",
]
