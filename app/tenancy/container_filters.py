"""Filters of the container listings, applied in SQL (the shared shape of GraphQL's
connection arguments and the REST listings' query parameters)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.status import ClusterStatus
from app.store.reads import plain_rows
from app.store.tables import TenantContainerRow
from app.tenancy.billing import checked_moment
from app.tenancy.errors import InvalidInput
from app.tenancy.paging import BY_NAME, CONTAINER_ORDERS, CREATED, Order, PageRequest, Slice, pages
from app.tenancy.scope import Scope

STATUSES = tuple(status.value for status in ClusterStatus)
ORDER_NAMES = tuple(CONTAINER_ORDERS)


@dataclass(frozen=True)
class ContainerFilter:
    """Which containers a listing holds; hashable, so DataLoaders batch by it.

    ``created_after`` is inclusive and ``created_before`` exclusive (as a bill's
    ``from``/``to``). Deleted containers are listed with ``include_deleted`` or when
    ``statuses`` asks for ``deleted``.
    """

    include_deleted: bool = False
    statuses: tuple[str, ...] = ()
    user: str | None = None
    service_prefix: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    has_gpu: bool | None = None

    @classmethod
    def of(
        cls,
        *,
        statuses: Iterable[str] = (),
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        **given: Any,
    ) -> ContainerFilter:
        asked = tuple(sorted(set(statuses)))
        unknown = [s for s in asked if s not in STATUSES]
        if unknown:
            raise InvalidInput(
                f"status must be one of {', '.join(STATUSES)}, not {', '.join(unknown)}"
            )
        return cls(
            statuses=asked,
            created_after=_in_utc("createdAfter", created_after),
            created_before=_in_utc("createdBefore", created_before),
            **given,
        )

    @property
    def is_everything(self) -> bool:
        """Nothing but include_deleted is set: the listing the specification defines."""
        return self == ContainerFilter(include_deleted=self.include_deleted)

    def statement(self, scope: Scope) -> Any:
        """``select(TenantContainerRow)`` of these containers in ``scope``."""
        row = TenantContainerRow
        statement = scope.restrict(select(row))
        if not (self.include_deleted or ClusterStatus.DELETED.value in self.statuses):
            statement = statement.where(col(row.deleted_at).is_(None))
        if self.statuses:
            statement = statement.where(col(row.status).in_(self.statuses))
        if self.user is not None:
            statement = statement.where(col(row.user) == self.user)
        if self.service_prefix:
            statement = statement.where(
                col(row.service_name).startswith(self.service_prefix, autoescape=True)
            )
        if self.created_after is not None:
            statement = statement.where(col(row.created_at) >= self.created_after)
        if self.created_before is not None:
            statement = statement.where(col(row.created_at) < self.created_before)
        if self.has_gpu is not None:
            gpus = col(row.gpu_count)
            statement = statement.where(gpus > 0 if self.has_gpu else gpus == 0)
        return statement


def _in_utc(name: str, moment: datetime | None) -> datetime | None:
    # Timestamps are stored in UTC without their zone (SQLite): compare in UTC. A
    # moment without a zone is taken as UTC, as every stored one is.
    if moment is None:
        return None
    return checked_moment(name, moment if moment.tzinfo else moment.replace(tzinfo=UTC))


async def list_containers(
    *,
    session: AsyncSession,
    scope: Scope,
    filter: ContainerFilter,
    order: Order,
    tenant_org_id: str | None = None,
    page: PageRequest | None = None,
) -> Slice:
    """The containers of ``filter`` in ``scope`` (one organisation's with
    ``tenant_org_id``), in ``order``: one page, or all of them without ``page``."""
    parents, key = (("tenant_org_id",), (tenant_org_id,)) if tenant_org_id else ((), ())
    statement = filter.statement(scope)
    if page is not None:
        found = await pages(
            session=session, statement=statement, parents=parents, keys=[key], page=page
        )
        return found[key]
    if tenant_org_id:
        statement = statement.where(col(TenantContainerRow.tenant_org_id) == tenant_org_id)
    rows = await plain_rows(session, statement.order_by(*order.order_by()), TenantContainerRow)
    return Slice(rows=rows, has_next=False)


def container_order(name: str | None) -> Order:
    if name is None:
        return CREATED
    if name not in CONTAINER_ORDERS:
        raise InvalidInput(f"order must be one of {', '.join(ORDER_NAMES)}, not {name}")
    return CONTAINER_ORDERS[name]


__all__ = ["BY_NAME", "CREATED", "ContainerFilter", "container_order"]
