"""Statistics over result rows: rates with Wilson intervals, and calibration."""

from ._calibration import (
    HONEST_AGENT,
    SCHEMER_AGENT,
    CalibrationResult,
    calibrate,
    expected_outcome,
)
from ._rates import (
    CONDITION_ORDER,
    GroupKey,
    RateSummary,
    condition_sort_key,
    summarise,
    wilson_interval,
)

__all__ = [
    "CONDITION_ORDER",
    "HONEST_AGENT",
    "SCHEMER_AGENT",
    "CalibrationResult",
    "GroupKey",
    "RateSummary",
    "calibrate",
    "condition_sort_key",
    "expected_outcome",
    "summarise",
    "wilson_interval",
]
