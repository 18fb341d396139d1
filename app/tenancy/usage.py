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
MAX_REPORTED = 1e30


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
        # Compared before float(): an int too large for a float must not overflow here.
        if not (isinstance(value, int) or math.isfinite(value)) or not 0 <= value <= MAX_REPORTED:
            raise InvalidInput(
                f"{field} must be a finite number between 0 and {MAX_REPORTED:.0e}, got {value}"
            )
        # + 0.0 turns -0.0 into 0.0: a negative zero would be shown as "-0.0".
        values[field] = float(value) + 0.0
    if not values:
        raise InvalidInput(f"a usage report needs at least one of {', '.join(USAGE_FIELDS)}")
    return values
