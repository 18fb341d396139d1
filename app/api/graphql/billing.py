"""GraphQL types and operations of billing: ``Organization.bill`` (resolved here,
declared on the Organization type), the ``prices`` query and the ``setPrices``
mutation. Money and resource-hours are ``Decimal``: exact, sent as strings ("12.34"),
as the REST shim sends them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import strawberry

from app.access.audit import audited
from app.api.error_codes import audit_outcome
from app.api.graphql.context import Info
from app.api.payloads import rfc3339
from app.models.billing import PriceList
from app.store.tables import PriceRow
from app.tenancy import bills, prices
from app.tenancy.billing import Allocation, Period
from app.tenancy.billing import Bill as BillValue
from app.tenancy.billing import BillLine as LineValue


def _parse_decimal(value: Any) -> Decimal:
    # Strings and integers only: a float has already lost the exact value.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f'Decimal must be a string such as "0.04" (or an integer): {value!r}')
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"Decimal cannot represent {value!r}") from None
    if not parsed.is_finite():
        raise ValueError(f"Decimal must be finite: {value!r}")
    return parsed


DECIMAL_SCALAR = strawberry.scalar(
    name="Decimal",
    serialize=lambda value: f"{Decimal(value):f}",
    parse_value=_parse_decimal,
    description='An exact decimal number, as a string ("12.34"): money and resource-hours.',
)


def _hours(resource: str) -> str:
    return (
        f"{resource} times the hours they were reserved in the period (rounded half to "
        "even to 6 decimal places)."
    )


CPU_CORE_HOURS = _hours("CPU cores (replicas x cpuLimit)")
MEMORY_GIB_HOURS = _hours("GiB of memory (replicas x memLimit)")
DISK_GIB_HOURS = _hours("GiB of disk (replicas x diskSize)")
GPU_HOURS = _hours("GPUs (replicas x gpuCount)")


@strawberry.type(description="One cluster's use in the period.")
class BillLine:
    container_id: strawberry.ID = strawberry.field(
        description="The cluster's id (TenantContainer.id)."
    )
    user: str = strawberry.field(description="The cluster's user.")
    service_name: str = strawberry.field(description="The cluster's service name.")
    namespace: str = strawberry.field(description="The cluster's Kubernetes namespace.")
    cpu_core_hours: Decimal = strawberry.field(description=CPU_CORE_HOURS)
    memory_gib_hours: Decimal = strawberry.field(description=MEMORY_GIB_HOURS)
    disk_gib_hours: Decimal = strawberry.field(description=DISK_GIB_HOURS)
    gpu_hours: Decimal = strawberry.field(description=GPU_HOURS)
    cost: Decimal = strawberry.field(
        description="Its hours at the prices in force when they were used, rounded half "
        "to even to the currency's minor unit."
    )

    @classmethod
    def of(cls, line: LineValue) -> BillLine:
        return cls(
            container_id=strawberry.ID(line.container_id),
            user=line.user,
            service_name=line.service_name,
            namespace=line.namespace,
            **line.hours.shown(),
            cost=line.cost,
        )


@strawberry.type(description="Some lines of a bill, summed.")
class LinesSummed:
    lines: int = strawberry.field(description="How many lines (clusters) are summed.")
    cpu_core_hours: Decimal = strawberry.field(description=CPU_CORE_HOURS)
    memory_gib_hours: Decimal = strawberry.field(description=MEMORY_GIB_HOURS)
    disk_gib_hours: Decimal = strawberry.field(description=DISK_GIB_HOURS)
    gpu_hours: Decimal = strawberry.field(description=GPU_HOURS)
    cost: Decimal = strawberry.field(
        description="The sum of the lines' (rounded) costs, so allocations add up to the total."
    )

    @staticmethod
    def summed(allocation: Allocation) -> dict[str, Any]:
        return {"lines": allocation.lines, **allocation.hours.shown(), "cost": allocation.cost}


@strawberry.type(description="The lines of one user, summed.")
class UserAllocation(LinesSummed):
    user: str = strawberry.field(description="The user whose lines these are.")

    @classmethod
    def of(cls, allocation: Allocation) -> UserAllocation:
        return cls(user=allocation.name, **cls.summed(allocation))


@strawberry.type(description="The lines of one service name (across users), summed.")
class ServiceAllocation(LinesSummed):
    service_name: str = strawberry.field(
        description="The service name whose lines these are, whichever user's."
    )

    @classmethod
    def of(cls, allocation: Allocation) -> ServiceAllocation:
        return cls(service_name=allocation.name, **cls.summed(allocation))


@strawberry.type(description="An organisation's bill for a period (the REST bill's data).")
class Bill:
    tenant_org_id: str = strawberry.field(description="The organisation billed.")
    period: str | None = strawberry.field(description="The calendar month asked for, else null.")
    from_: datetime = strawberry.field(name="from", description="Start (inclusive).")
    to: datetime = strawberry.field(description="End (exclusive).")
    billed_until: datetime = strawberry.field(
        description="Use is counted up to here: the period's end, or now when earlier."
    )
    currency: str = strawberry.field(
        description="ISO 4217 code of every amount of the bill (the prices' currency)."
    )
    lines: list[BillLine] = strawberry.field(
        description="One line per cluster that reserved resources in the period."
    )
    by_user: list[UserAllocation] = strawberry.field(description="The lines summed per user.")
    by_service: list[ServiceAllocation] = strawberry.field(
        description="The lines summed per service name."
    )
    total: Decimal = strawberry.field(description="The sum of the (rounded) lines.")

    @classmethod
    def of(cls, bill: BillValue) -> Bill:
        return cls(
            tenant_org_id=bill.tenant_org_id,
            period=bill.period.month,
            from_=bill.period.start,
            to=bill.period.end,
            billed_until=bill.billed_until,
            currency=bill.currency,
            lines=[BillLine.of(line) for line in bill.lines],
            by_user=[UserAllocation.of(a) for a in bill.by_user],
            by_service=[ServiceAllocation.of(a) for a in bill.by_service],
            total=bill.total,
        )


BILL_DESCRIPTION = (
    "The bill for a calendar month (period: YYYY-MM) or from/to (to exclusive, at most a "
    "year); the current month by default. Another organisation's is NOT_FOUND; a user "
    "key's has only its user's lines."
)


async def org_bill(
    info: Info,
    *,
    tenant_org_id: str,
    period: str | None,
    start: datetime | None,
    end: datetime | None,
) -> Bill:
    runtime = info.context.runtime
    now = runtime.clock()
    asked = Period.asked(month=period, start=start, end=end, now=now)
    async with runtime.sessions() as session:
        bill = await bills.org_bill(
            session=session,
            scope=info.context.caller.scope,
            tenant_org_id=tenant_org_id,
            period=asked,
            now=now,
            defaults=runtime.default_prices,
        )
    return Bill.of(bill)


PRICES = PriceList.model_fields


def _price_argument(name: str) -> Any:
    return strawberry.argument(description=f"{PRICES[name].description}; unset: unchanged.")


@strawberry.type(description="A price list: per unit-hour, in force from effectiveFrom.")
class Prices:
    effective_from: datetime | None = strawberry.field(
        description="null: the operator's settings, in force before any recorded price."
    )
    cpu_core_hour: Decimal = strawberry.field(description=PRICES["cpu_core_hour"].description)
    memory_gib_hour: Decimal = strawberry.field(
        description=PRICES["memory_gib_hour"].description
    )
    disk_gib_hour: Decimal = strawberry.field(description=PRICES["disk_gib_hour"].description)
    gpu_hour: Decimal = strawberry.field(description=PRICES["gpu_hour"].description)
    currency: str = strawberry.field(description=PRICES["currency"].description)

    @classmethod
    def of(cls, row: PriceList, *, effective_from: datetime | None) -> Prices:
        return cls(
            effective_from=effective_from,
            cpu_core_hour=row.cpu_core_hour,
            memory_gib_hour=row.memory_gib_hour,
            disk_gib_hour=row.disk_gib_hour,
            gpu_hour=row.gpu_hour,
            currency=row.currency,
        )

    @classmethod
    def from_row(cls, row: PriceRow) -> Prices:
        return cls.of(row, effective_from=row.effective_from)


@strawberry.type
class BillingQuery:
    @strawberry.field(
        description="The price table, oldest first: the settings' prices, then each recorded."
    )
    async def prices(self, info: Info) -> list[Prices]:
        runtime = info.context.runtime
        info.context.caller.scope  # noqa: B018 - tenant callers only (no report tokens)
        async with runtime.sessions() as session:
            rows = await prices.price_rows(session=session)
        return [
            Prices.of(runtime.default_prices, effective_from=None),
            *(Prices.from_row(row) for row in rows),
        ]


@strawberry.type
class BillingMutation:
    @strawberry.mutation(
        description="Record a price list from effectiveFrom (now when unset; never in the "
        "past) on (admin only). Prices left out keep those in force then."
    )
    async def set_prices(
        self,
        info: Info,
        effective_from: Annotated[
            datetime | None,
            strawberry.argument(
                description="From when the prices apply (not in the past); unset: now."
            ),
        ] = None,
        cpu_core_hour: Annotated[Decimal | None, _price_argument("cpu_core_hour")] = None,
        memory_gib_hour: Annotated[Decimal | None, _price_argument("memory_gib_hour")] = None,
        disk_gib_hour: Annotated[Decimal | None, _price_argument("disk_gib_hour")] = None,
        gpu_hour: Annotated[Decimal | None, _price_argument("gpu_hour")] = None,
        currency: Annotated[str | None, _price_argument("currency")] = None,
    ) -> Prices:
        runtime = info.context.runtime
        given = {
            "effective_from": effective_from,
            "cpu_core_hour": cpu_core_hour,
            "memory_gib_hour": memory_gib_hour,
            "disk_gib_hour": disk_gib_hour,
            "gpu_hour": gpu_hour,
            "currency": currency,
        }
        async with audited(
            sessions=runtime.sessions,
            principal=info.context.principal,
            action="setPrices",
            outcome_of=audit_outcome,
        ) as note:
            info.context.caller.require_admin()
            change = prices.parse_price_change({k: v for k, v in given.items() if v is not None})
            row = await prices.set_prices(
                sessions=runtime.sessions,
                change=change,
                defaults=runtime.default_prices,
                now=runtime.clock(),
            )
            note.target = f"prices from {rfc3339(row.effective_from)}"
        return Prices.from_row(row)
