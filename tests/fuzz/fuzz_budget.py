"""Hypothesis budgets for the fuzz suite, bounded for CI.

`TRIPWIRE_FUZZ_SCALE` multiplies every budget (e.g. `TRIPWIRE_FUZZ_SCALE=20` for a long
local run); the default keeps the whole suite to well under a minute.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = float(os.environ.get("TRIPWIRE_FUZZ_SCALE", "1"))


def budget(examples: int) -> settings:
    """Settings for a property: `examples` cases (times the scale), no deadline."""
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
