"""How proportions and intervals are written in tables and reports."""

from __future__ import annotations

__all__ = ["format_ci", "format_percent"]


def format_percent(value: float) -> str:
    """A proportion as a percent: whole numbers, one decimal below 1% so 0.4% is not 0%."""
    percent = value * 100
    # Near the ends a whole number hides the difference from 0% or 100%.
    if 0 < percent < 1 or 99 < percent < 100:
        tenths = f"{percent:.1f}"
        if tenths not in ("0.0", "1.0", "99.0", "100.0"):
            return f"{tenths}%"
    return f"{percent:.0f}%"


def format_ci(low: float | None, high: float | None) -> str:
    """A confidence interval as `[a%, b%]`, or an em dash when there is none."""
    if low is None or high is None:
        return "—"
    return f"[{format_percent(low)}, {format_percent(high)}]"
