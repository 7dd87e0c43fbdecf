"""Statistics over result rows: rates with Wilson intervals, sandbagging tests, calibration."""

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
from ._sandbagging import (
    DEFERRED_SCENARIOS,
    SANDBAGGING_ALPHA,
    DeferredCalibrationResult,
    SandbaggingSummary,
    SandbaggingTest,
    calibrate_deferred,
    sandbagging_test,
    sandbagging_tests,
)

__all__ = [
    "CONDITION_ORDER",
    "DEFERRED_SCENARIOS",
    "HONEST_AGENT",
    "SANDBAGGING_ALPHA",
    "SCHEMER_AGENT",
    "CalibrationResult",
    "DeferredCalibrationResult",
    "GroupKey",
    "RateSummary",
    "SandbaggingSummary",
    "SandbaggingTest",
    "calibrate",
    "calibrate_deferred",
    "condition_sort_key",
    "expected_outcome",
    "sandbagging_test",
    "sandbagging_tests",
    "summarise",
    "wilson_interval",
]
