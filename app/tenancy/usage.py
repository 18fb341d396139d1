"""Usage reports from running clusters (spec section 6): validation of a report with
the model (app.models.usage.UsageReport), its errors worded by app.tenancy.validation.

cpu_usage is in cores, memory_usage and disk_usage in bytes, qps in queries per
second, as the cluster's reporter measures them. A report may carry any of the four;
the ones it leaves out keep their last reported value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.models.usage import MAX_REPORTED, USAGE_FIELDS, UsageReport
from app.tenancy.validation import REPORT_ORDER, invalid_input

__all__ = ["MAX_REPORTED", "USAGE_FIELDS", "parse_usage_report"]


def parse_usage_report(payload: Mapping[str, Any]) -> dict[str, float]:
    try:
        report = UsageReport.model_validate(dict(payload))
    except ValidationError as exc:
        raise invalid_input(
            exc, model=UsageReport, order=REPORT_ORDER, takes="a report has"
        ) from None
    # + 0.0 turns -0.0 into 0.0: a negative zero would be shown as "-0.0".
    return {field: value + 0.0 for field, value in report.model_dump(exclude_none=True).items()}
