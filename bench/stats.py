"""The statistics the benches print: one percentile definition for every table."""
from __future__ import annotations

import math


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (the smallest value with at least ``share`` of the values at or below it), so a
    reported p99 is a latency that was really measured, never an interpolation between two."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
