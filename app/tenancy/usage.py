"""Usage reports from running clusters (spec section 6): validation of a report.

cpu_usage is in cores, memory_usage and disk_usage in bytes, qps in queries per
second, as the cluster's reporter measures them. A report may carry any of the four;
the ones it leaves out keep their last reported value."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.tenancy.errors import InvalidInput

USAGE_FIELDS = ("cpu_usage", "memory_usage", "disk_usage", "qps")
# Far beyond any real measurement, and within the float range the values are kept in.
MAX_REPORTED = 10**30


def parse_usage_report(payload: Mapping[str, Any]) -> dict[str, float]:
    unknown = sorted(set(payload) - set(USAGE_FIELDS))
    if unknown:
        raise InvalidInput(
            f"unknown field(s) {', '.join(unknown)}; a report has {', '.join(USAGE_FIELDS)}"
        )
    values: dict[str, float] = {}
    for field in USAGE_FIELDS:
        value = payload.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{field} must be a number")
        if isinstance(value, int) and abs(value) > MAX_REPORTED:
            raise InvalidInput(f"{field} must be at most {MAX_REPORTED:.0e}")
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"{field} must be a finite number >= 0, got {value}")
        values[field] = float(value)
    if not values:
        raise InvalidInput(f"a usage report needs at least one of {', '.join(USAGE_FIELDS)}")
    return values
