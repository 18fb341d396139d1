"""The REST shapes of billing: a bill (JSON and CSV) and a price list. Money and
resource-hours are decimal strings ("12.34", "1.500000"), never JSON numbers, so no
client rounds them through a float."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, WithJsonSchema

from app.api.payloads import Shape, Timestamp
from app.models.billing import PriceList
from app.store.tables import PriceRow
from app.tenancy.billing import Allocation, Bill, BillLine, ResourceHours

_DECIMAL_SCHEMA = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"}


def _plain(value: Decimal) -> str:
    return f"{value:f}"


Amount = Annotated[
    Decimal,
    PlainSerializer(_plain, return_type=str),
    WithJsonSchema(_DECIMAL_SCHEMA, mode="serialization"),
]


def _amount(description: str) -> Any:
    return Field(description=description)


class _Hours(Shape):
    cpu_core_hours: Amount = _amount("CPU core-hours: replicas x cpu_limit x hours")
    memory_gib_hours: Amount = _amount("GiB-hours of memory: replicas x mem_limit x hours")
    disk_gib_hours: Amount = _amount("GiB-hours of disk: replicas x disk_size x hours")
    gpu_hours: Amount = _amount("GPU-hours: replicas x gpu_count x hours")


# Whose use a line or an allocation is: its keys come first in the JSON (pydantic
# orders the fields of ``class C(_Hours, _Key)`` as _Key's, _Hours', then C's own).
class _LineKey(Shape):
    container_id: str = Field(description="The TenantContainer id")
    user: str
    service_name: str
    namespace: str


class _UserKey(Shape):
    user: str
    lines: int


class _ServiceKey(Shape):
    service_name: str
    lines: int


class BillLineShape(_Hours, _LineKey):
    """One cluster's use in the period (a service deleted and created again has a line
    per cluster)"""

    cost: Amount = _amount("Rounded half to even to the currency's minor unit")


class UserAllocation(_Hours, _UserKey):
    """The lines of one user, summed"""

    cost: Amount = _amount("The sum of the user's (rounded) lines")


class ServiceAllocation(_Hours, _ServiceKey):
    """The lines of one service name (across users), summed"""

    cost: Amount = _amount("The sum of the service's (rounded) lines")


class BillShape(Shape):
    """An organisation's bill for a period"""

    tenant_org_id: str
    period: str | None = Field(description="The calendar month asked for (YYYY-MM), else null")
    from_: Timestamp = Field(serialization_alias="from", description="Start (inclusive)")
    to: Timestamp = Field(description="End (exclusive)")
    billed_until: Timestamp = Field(
        description="Use is counted up to here: the period's end, or now when earlier"
    )
    currency: str = Field(description="ISO 4217 code")
    lines: list[BillLineShape]
    by_user: list[UserAllocation]
    by_service: list[ServiceAllocation]
    total: Amount = _amount("The sum of the (rounded) lines")


class PriceListShape(Shape):
    """A price list: per unit-hour, in force from effective_from until the next"""

    effective_from: Timestamp | None = Field(
        description="null: the operator's settings, in force before any recorded price"
    )
    cpu_core_hour: Amount
    memory_gib_hour: Amount
    disk_gib_hour: Amount
    gpu_hour: Amount
    currency: str


def _hours(hours: ResourceHours) -> dict[str, Decimal]:
    return hours.shown()


def _line(line: BillLine) -> BillLineShape:
    return BillLineShape(
        container_id=line.container_id,
        user=line.user,
        service_name=line.service_name,
        namespace=line.namespace,
        **_hours(line.hours),
        cost=line.cost,
    )


def _by_user(allocation: Allocation) -> UserAllocation:
    return UserAllocation(
        user=allocation.name,
        lines=allocation.lines,
        **_hours(allocation.hours),
        cost=allocation.cost,
    )


def _by_service(allocation: Allocation) -> ServiceAllocation:
    return ServiceAllocation(
        service_name=allocation.name,
        lines=allocation.lines,
        **_hours(allocation.hours),
        cost=allocation.cost,
    )


def bill(value: Bill) -> dict[str, Any]:
    shape = BillShape(
        tenant_org_id=value.tenant_org_id,
        period=value.period.month,
        from_=value.period.start,
        to=value.period.end,
        billed_until=value.billed_until,
        currency=value.currency,
        lines=[_line(line) for line in value.lines],
        by_user=[_by_user(a) for a in value.by_user],
        by_service=[_by_service(a) for a in value.by_service],
        total=value.total,
    )
    return shape.model_dump(mode="json", by_alias=True)


CSV_COLUMNS = (
    "container_id", "user", "service_name", "namespace", "cpu_core_hours",
    "memory_gib_hours", "disk_gib_hours", "gpu_hours", "cost", "currency",
)  # fmt: skip


def bill_csv(value: Bill) -> str:
    """A header row, a row per line, and a final row with ``total`` in the first column
    and the total cost (the other columns empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in value.lines:
        row = _line(line).model_dump(mode="json")
        writer.writerow([*(row[name] for name in CSV_COLUMNS[:-1]), value.currency])
    writer.writerow(["total", "", "", "", "", "", "", "", _plain(value.total), value.currency])
    return out.getvalue()


def price_list(row: PriceList, *, effective_from: datetime | None) -> dict[str, Any]:
    shape = PriceListShape(
        effective_from=effective_from,
        **{
            name: getattr(row, name)
            for name in PriceListShape.model_fields
            if name != "effective_from"
        },
    )
    return shape.model_dump(mode="json")


def price_row(row: PriceRow) -> dict[str, Any]:
    return price_list(row, effective_from=row.effective_from)
