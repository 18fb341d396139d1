"""The listings that can grow, as values a DataLoader can batch by: which rows, below
which parent columns, in which orders. Reading one is a page (paging.pages) or a
count (paging.counts) of ``statement(scope)``."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from app.store.tables import (
    ApiKeyRow,
    AuditEntryRow,
    ClusterEventRow,
    TenantContainerRow,
    UsageSampleRow,
)
from app.tenancy.container_filters import ContainerFilter
from app.tenancy.paging import Order
from app.tenancy.scope import Scope

EVENT_ORDER = Order("event", ClusterEventRow, ("id",))  # oldest first
USAGE_ORDER = Order("sample", UsageSampleRow, ("id",))  # oldest first
AUDIT_ORDER = Order("entry", AuditEntryRow, ("id",), descending=True)  # newest first
API_KEY_ORDER = Order("key", ApiKeyRow, ("created_at", "id"))


class Kind(enum.Enum):
    CONTAINERS = TenantContainerRow
    EVENTS = ClusterEventRow
    USAGE = UsageSampleRow
    AUDIT = AuditEntryRow
    API_KEYS = ApiKeyRow


@dataclass(frozen=True)
class Listing:
    """Rows of ``kind`` grouped by the columns ``parents`` (``()``: one list).

    Events and usage are reached through a container the caller's scope already
    admitted; audit entries and keys are the admin's alone. Containers are restricted
    to the scope here, and filtered by ``containers``; the audit log and keys by
    ``tenant_org_id``.
    """

    kind: Kind
    parents: tuple[str, ...] = ()
    containers: ContainerFilter = field(default_factory=ContainerFilter)
    tenant_org_id: str | None = None

    def statement(self, scope: Scope) -> Any:
        if self.kind is Kind.CONTAINERS:
            return self.containers.statement(scope)
        statement = select(self.kind.value)
        if self.tenant_org_id is not None and self.kind in (Kind.AUDIT, Kind.API_KEYS):
            statement = statement.where(col(self.kind.value.tenant_org_id) == self.tenant_org_id)
        return statement


def containers(*, filter: ContainerFilter, parents: tuple[str, ...] = ()) -> Listing:
    return Listing(Kind.CONTAINERS, parents=parents, containers=filter)


EVENTS_OF_CONTAINERS = Listing(Kind.EVENTS, parents=("container_id",))
USAGE_OF_DEPLOYMENTS = Listing(Kind.USAGE, parents=("deployment_id",))
