"""The price table: price lists the platform admin records, each in force from its
``effective_from`` until the next; before the first, the operator's settings.

A price list is never changed once recorded, and none may take effect in the past, so
the bill of a closed period never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.billing import MAX_PRICE, PRICE_FIELDS, PRICE_PLACES, PriceChange, PriceList
from app.store.db import SessionFactory, session_scope
from app.store.tables import PriceRow
from app.tenancy.billing import Prices, PriceSchedule, as_utc, checked_moment
from app.tenancy.errors import Conflict, InvalidInput
from app.tenancy.validation import Check, invalid_input


def prices_of(price_list: PriceList) -> Prices:
    return Prices(**{name: getattr(price_list, name) for name in (*PRICE_FIELDS, "currency")})


async def price_rows(*, session: AsyncSession) -> list[PriceRow]:
    rows = await session.exec(select(PriceRow).order_by(col(PriceRow.effective_from)))
    return list(rows.all())


async def price_schedule(*, session: AsyncSession, defaults: PriceList) -> PriceSchedule:
    rows = await price_rows(session=session)
    return PriceSchedule(
        prices_of(defaults), [(as_utc(row.effective_from), prices_of(row)) for row in rows]
    )


def parse_price_change(payload: Mapping[str, Any]) -> PriceChange:
    try:
        return PriceChange.model_validate(dict(payload))
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else ""
        if name in PRICE_FIELDS and not isinstance(
            (first.get("ctx") or {}).get("error"), ValueError
        ):
            raise InvalidInput(
                f"{name} must be a decimal number from 0 to {MAX_PRICE} with at most "
                f'{PRICE_PLACES} decimal places, as a string ("0.04") or a number'
            ) from None
        if name == "effective_from" and first["type"] != "extra_forbidden":
            raise InvalidInput(
                "effective_from must be an RFC 3339 instant with a time zone "
                "such as 2026-12-01T00:00:00Z"
            ) from None
        raise invalid_input(
            exc, model=PriceChange, order=(Check.UNKNOWN,), takes="a price change takes"
        ) from None


async def set_prices(
    *, sessions: SessionFactory, change: PriceChange, defaults: PriceList, now: datetime
) -> PriceRow:
    """Record ``change`` (prices left out keep those in force at its moment)."""
    given_moment = change.effective_from
    effective = now if given_moment is None else checked_moment("effective_from", given_moment)
    if effective < now:
        raise InvalidInput(
            "effective_from is in the past: prices can only change from now on, so "
            "that bills of past periods never change"
        )
    try:
        async with session_scope(sessions) as session:
            in_force = (await price_schedule(session=session, defaults=defaults)).at(effective)
            given = change.model_dump(exclude_none=True, exclude={"effective_from"})
            row = PriceRow(**{**vars(in_force), **given}, effective_from=effective, created_at=now)
            session.add(row)
            await session.flush()
            return row
    except IntegrityError:
        raise Conflict(
            f"a price list already takes effect at {effective.isoformat()}; choose another moment"
        ) from None
