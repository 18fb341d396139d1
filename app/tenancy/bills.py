"""An organisation's bill for a period, read from the usage ledger and the price table
and computed by app.tenancy.billing, through the caller's scope: another
organisation's bill is "not found" (as everywhere), and a user-bound key's bill holds
only its user's lines."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.billing import PriceList
from app.store.tables import UsageLedgerRow
from app.tenancy.billing import Bill, Period, compute_bill
from app.tenancy.errors import NotFound
from app.tenancy.prices import price_schedule
from app.tenancy.scope import Scope


async def org_bill(
    *,
    session: AsyncSession,
    scope: Scope,
    tenant_org_id: str,
    period: Period,
    now: datetime,
    defaults: PriceList,
) -> Bill:
    if not scope.covers_org(tenant_org_id):
        raise NotFound(f'organisation "{tenant_org_id}" not found')
    until = min(now, period.end)
    statement = select(UsageLedgerRow).where(
        col(UsageLedgerRow.tenant_org_id) == tenant_org_id,
        col(UsageLedgerRow.started_at) < until,
        or_(col(UsageLedgerRow.ended_at).is_(None), col(UsageLedgerRow.ended_at) > period.start),
    )
    if scope.user is not None:
        statement = statement.where(col(UsageLedgerRow.user) == scope.user)
    segments = (await session.exec(statement.order_by(col(UsageLedgerRow.id)))).all()
    return compute_bill(
        tenant_org_id=tenant_org_id,
        segments=segments,
        schedule=await price_schedule(session=session, defaults=defaults),
        period=period,
        now=now,
    )
