"""Keyset paging, one cursor scheme for every listing.

A listing is ordered by an immutable key of its rows that ends in a unique column (an
``Order``: creation time then id, name then user then id, an event's id ...). A
position in that order travels to clients as an opaque cursor (base64url of the
order's name and the key's values), so a page starts right after the last row the
client has seen, however many rows were added or deleted in between: no offsets.

The cursor names its order, not its direction: a position is the same place whether
the listing is read forwards or backwards, and a cursor of another order is refused.
Containers' creation-time cursors of the first version (no order name) still work.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.reads import plain_rows
from app.store.tables import TenantContainerRow
from app.tenancy.errors import InvalidInput

# A connection's page: at most this many rows, and this many when `first` is not given.
MAX_PAGE = 100
# Far longer than any cursor this API writes (names are at most 63 characters).
MAX_CURSOR = 1000


def _utc(at: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every one is written in UTC.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _is_int64(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _encode(value: Any) -> Any:
    return _utc(value).isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Order:
    """An ordering of ``table``'s rows by the attributes ``keys`` (the last unique)."""

    name: str
    table: Any
    keys: tuple[str, ...]
    descending: bool = False

    def reversed_if(self, descending: bool) -> Order:
        return Order(self.name, self.table, self.keys, descending)

    def _columns(self) -> list[Any]:
        return [col(getattr(self.table, key)) for key in self.keys]

    def order_by(self) -> list[Any]:
        return [c.desc() if self.descending else c.asc() for c in self._columns()]

    def values_of(self, row: Any) -> tuple[Any, ...]:
        return tuple(getattr(row, key) for key in self.keys)

    def cursor_of(self, row: Any) -> str:
        raw = json.dumps([self.name, *(_encode(v) for v in self.values_of(row))])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def position(self, cursor: str) -> tuple[Any, ...]:
        """The key values a cursor of this order holds; InvalidInput when it is not one."""
        refusal = InvalidInput(
            f"after must be a cursor this listing returned in {self.name} order (an edge's "
            "cursor; in REST an X-Next-Cursor)"
        )
        if len(cursor) > MAX_CURSOR:  # also keeps nesting bombs away from the JSON parser
            raise refusal
        try:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, TypeError, RecursionError) as error:
            raise refusal from error
        if not isinstance(raw, list) or not raw:
            raise refusal
        name, *values = raw
        if self.name == "created" and len(raw) == 2:  # the first version's cursors
            name, values = "created", raw
        if name != self.name or len(values) != len(self.keys):
            raise refusal
        try:
            return tuple(
                self._decode(key, value) for key, value in zip(self.keys, values, strict=True)
            )
        except (ValueError, TypeError, OverflowError) as error:
            raise refusal from error

    def _decode(self, key: str, value: Any) -> Any:
        kind = getattr(self.table, key).type
        if isinstance(kind, sa.TypeDecorator):  # e.g. sqlmodel's AutoString
            kind = kind.impl_instance
        if isinstance(kind, sa.DateTime) and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            # Compared as stored: in UTC, without the zone.
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        if isinstance(kind, sa.Integer) and _is_int64(value):
            return value
        if isinstance(kind, sa.String) and isinstance(value, str):
            return value
        raise TypeError(key)

    def after(self, position: tuple[Any, ...]) -> Any:
        """The condition "comes after ``position`` in this order" (a row-value
        comparison, which SQLite and PostgreSQL both answer from an index)."""
        columns = self._columns()
        here = sa.tuple_(*columns)
        there = sa.tuple_(*(sa.literal(v, c.type) for c, v in zip(columns, position, strict=True)))
        return here < there if self.descending else here > there


CREATED = Order("created", TenantContainerRow, ("created_at", "id"))
BY_NAME = Order("name", TenantContainerRow, ("service_name", "user", "id"))
CONTAINER_ORDERS = {order.name: order for order in (CREATED, BY_NAME)}


@dataclass(frozen=True)
class PageRequest:
    """A connection's page: ``first`` rows after the position ``after`` (from the
    start when None), in ``order``. Hashable: DataLoaders batch by it."""

    order: Order
    first: int = MAX_PAGE
    after: tuple[Any, ...] | None = None

    @classmethod
    def of(cls, *, order: Order, first: int | None, after: str | None) -> PageRequest:
        if first is None:
            first = MAX_PAGE
        if not 0 <= first <= MAX_PAGE:
            raise InvalidInput(f"first must be between 0 and {MAX_PAGE}, not {first}")
        return cls(order=order, first=first, after=order.position(after) if after else None)

    def restrict(self, statement: Any) -> Any:
        """The statement's rows from this page's position on, in its order (no limit)."""
        if self.after is not None:
            statement = statement.where(self.order.after(self.after))
        return statement.order_by(*self.order.order_by())


@dataclass(frozen=True)
class Slice:
    """One page of rows and whether more follow."""

    rows: Sequence[Any]
    has_next: bool

    @classmethod
    def of(cls, rows: Sequence[Any], first: int) -> Slice:
        """From up to ``first + 1`` rows read: the one beyond says a next page exists."""
        return cls(rows=list(rows[:first]), has_next=len(rows) > first)


async def pages(
    *,
    session: AsyncSession,
    statement: Any,
    parents: tuple[str, ...],
    keys: Sequence[tuple[Any, ...]],
    page: PageRequest,
) -> dict[tuple[Any, ...], Slice]:
    """The page of ``statement``'s rows (``select(table)`` with its filters) below each
    parent in ``keys`` (values of the columns ``parents``; ``()`` for no parent), in
    one statement whatever the number of parents: a window numbers each parent's rows
    in the page's order and keeps ``first + 1`` of each. Plain, read-only rows
    (app.store.reads)."""
    table = page.order.table
    limit = page.first + 1
    if len(keys) == 1:
        for name, value in zip(parents, keys[0], strict=True):
            statement = statement.where(col(getattr(table, name)) == value)
        rows = await plain_rows(session, page.restrict(statement).limit(limit), table)
        return {keys[0]: Slice.of(rows, page.first)}
    statement = _of_parents(statement, table, parents, keys)
    if page.after is not None:
        statement = statement.where(page.order.after(page.after))
    columns = [col(getattr(table, name)) for name in parents]
    rank = func.row_number().over(partition_by=columns, order_by=page.order.order_by())
    inner = statement.add_columns(rank.label("paging_rank")).subquery()
    row_columns = [inner.c[column.key] for column in table.__table__.columns]
    outer = sa.select(*row_columns).where(inner.c.paging_rank <= limit)
    found: dict[tuple[Any, ...], list[Any]] = {key: [] for key in keys}
    for row in await plain_rows(session, outer.order_by(inner.c.paging_rank), table):
        kept = found.get(tuple(getattr(row, name) for name in parents))
        if kept is not None:  # the IN lists of several columns also match other pairs
            kept.append(row)
    return {key: Slice.of(rows, page.first) for key, rows in found.items()}


async def counts(
    *,
    session: AsyncSession,
    statement: Any,
    table: Any,
    parents: tuple[str, ...],
    keys: Sequence[tuple[Any, ...]],
) -> dict[tuple[Any, ...], int]:
    """How many rows ``statement`` holds below each parent: one grouped statement."""
    rows = _of_parents(statement, table, parents, keys).subquery()
    columns = [rows.c[name] for name in parents]
    grouped = sa.select(*columns, func.count()).select_from(rows).group_by(*columns)
    found = {key: 0 for key in keys}
    # A plain SQLAlchemy select: sqlmodel's select() types at most four columns.
    for *parent, number in (await session.exec(grouped)).all():  # type: ignore[call-overload]
        if tuple(parent) in found:
            found[tuple(parent)] = int(number)
    return found


def _of_parents(
    statement: Any, table: Any, parents: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
) -> Any:
    # One IN list per column (SQLite has no row-value IN lists); callers drop the
    # pairs that were not asked for.
    for index, name in enumerate(parents):
        statement = statement.where(col(getattr(table, name)).in_(sorted({k[index] for k in keys})))
    return statement


# -- the container listings' first version: plain lists with first/after ---------------


class Positioned(Protocol):
    """A container as any layer holds it: a row, a plain row, a GraphQL object."""

    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> str: ...


@dataclass(frozen=True, order=True)
class Position:
    created_at: datetime
    id: str

    @classmethod
    def of(cls, row: Positioned) -> Position:
        return cls(created_at=_utc(row.created_at), id=row.id)

    @property
    def cursor(self) -> str:
        return CREATED.cursor_of(self)

    @classmethod
    def from_cursor(cls, cursor: str) -> Position:
        created_at, row_id = CREATED.position(cursor)
        return cls(created_at=created_at, id=row_id)


@dataclass(frozen=True)
class Page:
    """At most ``first`` rows (all when None) after ``after`` (from the start when None)."""

    first: int | None = None
    after: Position | None = None

    @classmethod
    def of(cls, *, first: int | None, after: str | None, max_rows: int) -> Page:
        if first is not None and not 1 <= first <= max_rows:
            raise InvalidInput(f"first must be between 1 and {max_rows}, not {first}")
        return cls(first=first, after=Position.from_cursor(after) if after is not None else None)

    def of_rows(self, rows: Sequence[TenantContainerRow]) -> list[TenantContainerRow]:
        """This page of rows already in the listing's order."""
        kept = [r for r in rows if self.after is None or Position.of(r) > self.after]
        return kept if self.first is None else kept[: self.first]
