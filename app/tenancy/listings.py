"""The listings that can grow, as values a DataLoader can batch by: which rows, below
which parent columns, in which orders. Reading one is a page (paging.pages, or
read_page for a single parent) or a count (paging.counts) of ``statement(scope)``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    TenantContainerRow,
    UsageSampleRow,
)
from app.tenancy import paging
from app.tenancy.container_filters import ContainerFilter
from app.tenancy.paging import Order, PageRequest, Slice
from app.tenancy.scope import Scope

EVENT_ORDER = Order("event", ClusterEventRow, ("id",))  # oldest first
USAGE_ORDER = Order("sample", UsageSampleRow, ("id",))  # oldest first
AUDIT_ORDER = Order("entry", AuditEntryRow, ("id",), descending=True)  # newest first
API_KEY_ORDER = Order("key", ApiKeyRow, ("created_at", "id"))
# An organisation's users by name: one container row stands for each user (see
# Listing.statement), so the name is unique below the organisation.
USER_ORDER = Order("user", TenantContainerRow, ("user",))


class Kind(enum.Enum):
    CONTAINERS = "containers"
    USERS = "users"
    EVENTS = "events"
    USAGE = "usage"
    AUDIT = "audit"
    API_KEYS = "api keys"

    @property
    def table(self) -> Any:
        """The table whose rows are listed (a user is one of its containers' rows)."""
        return _TABLES[self]


_TABLES = {
    Kind.CONTAINERS: TenantContainerRow,
    Kind.USERS: TenantContainerRow,
    Kind.EVENTS: ClusterEventRow,
    Kind.USAGE: UsageSampleRow,
    Kind.AUDIT: AuditEntryRow,
    Kind.API_KEYS: ApiKeyRow,
}


@dataclass(frozen=True)
class Listing:
    """Rows of ``kind`` grouped by the columns ``parents`` (``()``: one list).

    Events and usage are reached through a container the caller's scope already
    admitted; audit entries and keys are the admin's alone. Containers are restricted
    to the scope here, and filtered by ``containers``; the audit log and keys by
    ``tenant_org_id``. Users are those with a container of ``containers`` (the scope's
    and the filter's), each as the first of their containers by id.
    """

    kind: Kind
    parents: tuple[str, ...] = ()
    containers: ContainerFilter = field(default_factory=ContainerFilter)
    tenant_org_id: str | None = None

    def statement(self, scope: Scope) -> Any:
        if self.kind is Kind.CONTAINERS:
            return self.containers.statement(scope)
        if self.kind is Kind.USERS:
            row = TenantContainerRow
            firsts = (
                self.containers.statement(scope)
                .with_only_columns(func.min(col(row.id)))
                .group_by(col(row.tenant_org_id), col(row.user))
            )
            return select(row).where(col(row.id).in_(firsts))
        table = self.kind.table
        statement = select(table)
        if self.tenant_org_id is not None and self.kind in (Kind.AUDIT, Kind.API_KEYS):
            statement = statement.where(col(table.tenant_org_id) == self.tenant_org_id)
        return statement


def containers(*, filter: ContainerFilter, parents: tuple[str, ...] = ()) -> Listing:
    return Listing(Kind.CONTAINERS, parents=parents, containers=filter)


def users_of_orgs(*, include_deleted: bool) -> Listing:
    """The users of each organisation with a container there (deleted ones too when
    ``include_deleted``), as ``Organization.users`` lists them."""
    return Listing(
        Kind.USERS,
        parents=("tenant_org_id",),
        containers=ContainerFilter(include_deleted=include_deleted),
    )


async def read_page(
    *,
    session: AsyncSession,
    listing: Listing,
    scope: Scope,
    page: PageRequest,
    parent: tuple[Any, ...] = (),
) -> Slice:
    """One page of ``listing`` below the one parent ``parent`` (the REST listings')."""
    found = await paging.pages(
        session=session,
        statement=listing.statement(scope),
        parents=listing.parents,
        keys=[parent],
        page=page,
    )
    return found[parent]


EVENTS_OF_CONTAINERS = Listing(Kind.EVENTS, parents=("container_id",))
USAGE_OF_DEPLOYMENTS = Listing(Kind.USAGE, parents=("deployment_id",))
