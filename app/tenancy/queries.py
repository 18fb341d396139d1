"""The read side of tenancy: keyword-only queries taking their session explicitly.

Deleted clusters stay in the database (billing needs them) but are left out unless a
caller asks for them with ``include_deleted``.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import case, distinct, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.reads import plain_pairs, plain_rows
from app.store.tables import (
    ClusterEventRow,
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
)
from app.tenancy.errors import Conflict, NotFound
from app.tenancy.lifecycle import ClusterRecord
from app.tenancy.paging import Page
from app.tenancy.scope import Scope


def _ordered(statement: Any) -> Any:
    return statement.order_by(col(TenantContainerRow.created_at), col(TenantContainerRow.id))


def _paged(statement: Any, page: Page | None) -> Any:
    """Keyset paging in the order of ``_ordered``: rows after the page's position."""
    if page is None:
        return statement
    if page.after is not None:
        created_at = col(TenantContainerRow.created_at)
        statement = statement.where(
            or_(
                created_at > page.after.created_at,
                (created_at == page.after.created_at)
                & (col(TenantContainerRow.id) > page.after.id),
            )
        )
    return statement if page.first is None else statement.limit(page.first)


def _containers(*, scope: Scope, include_deleted: bool) -> Any:
    statement = scope.restrict(select(TenantContainerRow))
    if not include_deleted:
        statement = statement.where(col(TenantContainerRow.deleted_at).is_(None))
    return statement


async def list_containers(
    *, session: AsyncSession, scope: Scope, include_deleted: bool = False, page: Page | None = None
) -> Sequence[TenantContainerRow]:
    statement = _containers(scope=scope, include_deleted=include_deleted)
    return (await session.exec(_paged(_ordered(statement), page))).all()


async def list_org_containers(
    *,
    session: AsyncSession,
    scope: Scope,
    tenant_org_id: str,
    include_deleted: bool = False,
    page: Page | None = None,
) -> Sequence[TenantContainerRow]:
    statement = _containers(scope=scope, include_deleted=include_deleted).where(
        TenantContainerRow.tenant_org_id == tenant_org_id
    )
    return (await session.exec(_paged(_ordered(statement), page))).all()


@dataclass(frozen=True)
class ListingCounts:
    """How many rows an organisation's listings hold, so the cost of a query over them
    can be estimated before it runs."""

    clusters: int = 0
    users: int = 0
    events: int = 0  # status events of those clusters, in all
    most_events: int = 0  # of the one cluster with the most


async def listing_counts(
    *,
    session: AsyncSession,
    scope: Scope,
    tenant_org_ids: Collection[str] | None = None,
    with_events: bool = True,
) -> dict[tuple[str, bool], ListingCounts]:
    """Per organisation the caller's scope sees (only ``tenant_org_ids`` when given):
    its counts with deleted clusters (key ``(org, True)``) and without (``(org, False)``).

    One statement: the clusters through the tenant index, each with its number of
    events through the events' container index (not ``with_events``: no events
    counted, their counts 0). Organisations outside the scope are simply absent, as if
    empty.
    """
    statement = _listing_counts_statement(
        org_scoped=scope.tenant_org_id is not None,
        user_scoped=scope.user is not None,
        named=tenant_org_ids is not None,
        with_events=with_events,
    )
    params: dict[str, Any] = scope.parameters()
    if tenant_org_ids is not None:
        params["orgs"] = sorted(tenant_org_ids)
    found: dict[tuple[str, bool], ListingCounts] = {}
    # sqlmodel types select() for up to four columns; this is plain SQLAlchemy.
    for org, *numbers in (await session.exec(statement, params=params)).all():  # type: ignore[call-overload]
        n = [int(v) for v in numbers]
        found[(org, True)] = ListingCounts(*n[:4])
        found[(org, False)] = ListingCounts(*n[4:])
    return found


# Built once per kind of scope and question, the values as parameters: building it cost
# as much as running it (about 1.5 ms), once for every GraphQL operation estimated.
@functools.lru_cache(maxsize=16)
def _listing_counts_statement(
    *, org_scoped: bool, user_scoped: bool, named: bool, with_events: bool
) -> Any:
    events: Any = (
        select(func.count())
        .where(col(ClusterEventRow.container_id) == col(TenantContainerRow.id))
        .scalar_subquery()
        if with_events
        else sa.literal_column("0")
    )
    scope = Scope.placeholders(org=org_scoped, user=user_scoped)
    clusters = scope.restrict(
        select(
            col(TenantContainerRow.tenant_org_id).label("org"),
            col(TenantContainerRow.user).label("user"),
            case((col(TenantContainerRow.deleted_at).is_(None), 1), else_=0).label("live"),
            events.label("events"),
        )
    )
    if named:
        orgs: Any = sa.bindparam("orgs", expanding=True)
        clusters = clusters.where(col(TenantContainerRow.tenant_org_id).in_(orgs))
    c = clusters.subquery()
    live = c.c.live == 1
    return sa.select(
        c.c.org,
        func.count(),
        func.count(distinct(c.c.user)),
        func.coalesce(func.sum(c.c.events), 0),
        func.coalesce(func.max(c.c.events), 0),
        func.coalesce(func.sum(c.c.live), 0),
        func.count(distinct(case((live, c.c.user)))),
        func.coalesce(func.sum(case((live, c.c.events), else_=0)), 0),
        func.coalesce(func.max(case((live, c.c.events), else_=0)), 0),
    ).group_by(c.c.org)


@dataclass(frozen=True)
class OrgContainers:
    """An organisation listing's containers, oldest first, and, when asked for, the
    deployments of those loaded with it (by container id; None: not loaded)."""

    rows: list[TenantContainerRow]
    deployments: dict[str, DeploymentStatusRow] | None = None


# The columns a listing of an organisation's containers always reads, whichever its
# caller asks for: the keys it is grouped by (and a page cut from it is positioned
# by), and a deployment's own and its container's ids.
LISTED_CONTAINER_COLUMNS = frozenset({"id", "tenant_org_id", "user", "deleted_at", "created_at"})
LISTED_DEPLOYMENT_COLUMNS = frozenset({"id", "container_id"})


def _columns(table: type[Any], wanted: Collection[str] | None, always: frozenset[str]) -> list[Any]:
    """``table``'s columns (by attribute name) among ``wanted`` and ``always``, in the
    table's order; every one when ``wanted`` is None."""
    attributes = [prop.key for prop in sa.inspect(table).column_attrs]
    if wanted is not None:
        unknown = set(wanted) - set(attributes)
        if unknown:
            raise ValueError(f"no such columns of {table.__name__}: {sorted(unknown)}")
        attributes = [name for name in attributes if name in wanted or name in always]
    return [col(getattr(table, name)) for name in attributes]


async def containers_of_orgs(
    *,
    session: AsyncSession,
    scope: Scope,
    keys: Sequence[tuple[str, bool]],
    with_deployments: bool = False,
    container_columns: Collection[str] | None = None,
    deployment_columns: Collection[str] | None = None,
) -> dict[tuple[str, bool], OrgContainers]:
    """One query for many (organisation, include_deleted) keys: the DataLoader batch,
    as read-only rows (app.store.reads). ``with_deployments``: their deployments in
    the same statement (an outer join on the container), those of every key's
    containers (deleted ones' only when a key lists them).

    ``container_columns``, ``deployment_columns``: the attributes of each table to
    read (with those the listing itself needs), None: all. The rows then have only
    those attributes: whoever asks for fewer must not read any other."""
    rows: dict[tuple[str, bool], list[TenantContainerRow]] = {key: [] for key in keys}
    containers_read = _columns(TenantContainerRow, container_columns, LISTED_CONTAINER_COLUMNS)
    base: Any = sa.select(*containers_read)
    if with_deployments:
        deployments_read = _columns(
            DeploymentStatusRow, deployment_columns, LISTED_DEPLOYMENT_COLUMNS
        )
        base = sa.select(*containers_read, *deployments_read).outerjoin(
            DeploymentStatusRow, col(DeploymentStatusRow.container_id) == col(TenantContainerRow.id)
        )
    orgs = sorted({org for org, _ in keys})
    statement = scope.restrict(base).where(col(TenantContainerRow.tenant_org_id).in_(orgs))
    if not any(include_deleted for _, include_deleted in keys):
        statement = statement.where(col(TenantContainerRow.deleted_at).is_(None))
    statement = _ordered(statement)
    deployments: dict[str, DeploymentStatusRow] | None = None
    if with_deployments:
        pairs = await plain_pairs(session, statement, TenantContainerRow, DeploymentStatusRow)
        containers = [container for container, _ in pairs]
        deployments = {d.container_id: d for _, d in pairs if d is not None}
    else:
        containers = list(await plain_rows(session, statement, TenantContainerRow))
    for row in containers:
        for include_deleted in (True, False):
            key = (row.tenant_org_id, include_deleted)
            if key in rows and (include_deleted or row.deleted_at is None):
                rows[key].append(row)
    return {key: OrgContainers(found, deployments) for key, found in rows.items()}


async def find_container(
    *,
    session: AsyncSession,
    scope: Scope,
    user: str,
    service_name: str,
    tenant_org_id: str | None = None,
    include_deleted: bool = False,
) -> TenantContainerRow:
    """The one container of ``user``/``service_name`` (per organisation the live one,
    else with ``include_deleted`` the newest deleted one)."""
    statement = _containers(scope=scope, include_deleted=include_deleted).where(
        TenantContainerRow.user == user, TenantContainerRow.service_name == service_name
    )
    if tenant_org_id is not None:
        statement = statement.where(TenantContainerRow.tenant_org_id == tenant_org_id)
    per_org: dict[str, TenantContainerRow] = {}
    for row in (await session.exec(_ordered(statement))).all():
        kept = per_org.get(row.tenant_org_id)
        if kept is None or kept.deleted_at is not None:
            per_org[row.tenant_org_id] = row
    if not per_org:
        where = f' in organisation "{tenant_org_id}"' if tenant_org_id is not None else ""
        raise NotFound(f'no cluster for service "{service_name}" of user "{user}"{where}')
    if len(per_org) > 1:
        raise Conflict(
            f'service "{service_name}" of user "{user}" exists in several organisations '
            f"({', '.join(sorted(per_org))}); pass tenant_org_id to choose one"
        )
    return next(iter(per_org.values()))


async def find_by_namespace(
    *, session: AsyncSession, scope: Scope, namespace: str, include_deleted: bool = False
) -> TenantContainerRow:
    """The live container in ``namespace``; with ``include_deleted`` the newest deleted
    one when no live one exists."""
    statement = _containers(scope=scope, include_deleted=include_deleted).where(
        TenantContainerRow.namespace == namespace
    )
    rows = (await session.exec(_ordered(statement))).all()
    live = [row for row in rows if row.deleted_at is None]
    if live:
        return live[0]
    if rows:
        return rows[-1]
    raise NotFound(f'no cluster in namespace "{namespace}"')


async def get_container(*, session: AsyncSession, container_id: str) -> TenantContainerRow | None:
    return await session.get(TenantContainerRow, container_id)


async def container_pair(
    *, session: AsyncSession, container_id: str, for_update: bool = False
) -> ClusterRecord | None:
    """A cluster's two records, loaded together for a status transition; with
    ``for_update`` the container row is locked (where the database can) so two
    transitions of one cluster serialise."""
    container = await session.get(TenantContainerRow, container_id, with_for_update=for_update)
    if container is None:
        return None
    deployments = await deployments_of_containers(session=session, container_ids=[container_id])
    deployment = deployments.get(container_id)
    return ClusterRecord(container, deployment) if deployment is not None else None


async def container_version(*, session: AsyncSession, container_id: str) -> int | None:
    """The version of a cluster's record as committed now: a newer one than a worker
    began from means the cluster moved on without it."""
    statement = select(TenantContainerRow.row_version).where(TenantContainerRow.id == container_id)
    return (await session.exec(statement)).first()


async def get_deployment(
    *, session: AsyncSession, scope: Scope, namespace: str, include_deleted: bool = True
) -> DeploymentStatusRow:
    """The deployment in ``namespace``: the live one, else the newest deleted one."""
    container = await find_by_namespace(
        session=session, scope=scope, namespace=namespace, include_deleted=include_deleted
    )
    deployments = await deployments_of_containers(session=session, container_ids=[container.id])
    if container.id not in deployments:  # pragma: no cover - both are written together
        raise NotFound(f'no deployment in namespace "{namespace}"')
    return deployments[container.id]


async def deployments_of_containers(
    *, session: AsyncSession, container_ids: Sequence[str], plain: bool = False
) -> dict[str, DeploymentStatusRow]:
    """Each container's deployment; ``plain``: as read-only rows (app.store.reads)."""
    statement = select(DeploymentStatusRow).where(
        col(DeploymentStatusRow.container_id).in_(list(container_ids))
    )
    if plain:
        rows = await plain_rows(session, statement, DeploymentStatusRow)
    else:
        rows = (await session.exec(statement)).all()
    return {row.container_id: row for row in rows}


async def events_of_containers(
    *, session: AsyncSession, container_ids: Sequence[str]
) -> dict[str, list[ClusterEventRow]]:
    found: dict[str, list[ClusterEventRow]] = {cid: [] for cid in container_ids}
    statement = (
        select(ClusterEventRow)
        .where(col(ClusterEventRow.container_id).in_(list(container_ids)))
        .order_by(col(ClusterEventRow.id))
    )
    for row in (await session.exec(statement)).all():
        found[row.container_id].append(row)
    return found


async def events_after(
    *, session: AsyncSession, after_id: int, limit: int
) -> list[tuple[ClusterEventRow, TenantContainerRow]]:
    """Events newer than ``after_id`` of every organisation with their clusters, oldest
    first, at most ``limit``: one read serves every subscriber (the event feed filters
    them by each subscriber's scope)."""
    statement = (
        select(ClusterEventRow, TenantContainerRow)
        .join(TenantContainerRow, col(TenantContainerRow.id) == col(ClusterEventRow.container_id))
        .where(col(ClusterEventRow.id) > after_id)
        .order_by(col(ClusterEventRow.id))
        .limit(limit)
    )
    return [(event, container) for event, container in (await session.exec(statement)).all()]


async def last_event_id(*, session: AsyncSession) -> int:
    statement = select(ClusterEventRow.id).order_by(col(ClusterEventRow.id).desc()).limit(1)
    return (await session.exec(statement)).first() or 0


async def usage_history(
    *,
    session: AsyncSession,
    deployment_ids: Sequence[str],
    since: datetime | None = None,
    limit: int = 1000,
) -> dict[str, list[UsageSampleRow]]:
    """Usage samples of several deployments, oldest first, the newest ``limit`` each."""
    found: dict[str, list[UsageSampleRow]] = {did: [] for did in deployment_ids}
    statement = select(UsageSampleRow).where(
        col(UsageSampleRow.deployment_id).in_(list(deployment_ids))
    )
    if since is not None:
        statement = statement.where(col(UsageSampleRow.at) >= since)
    statement = statement.order_by(col(UsageSampleRow.at), col(UsageSampleRow.id))
    for row in (await session.exec(statement)).all():
        found[row.deployment_id].append(row)
    return {did: rows[-limit:] for did, rows in found.items()}


async def clusters_by_status(*, session: AsyncSession) -> dict[ClusterStatus, int]:
    """How many clusters (deleted ones too) are in each status: one grouped count."""
    statement = sa.select(col(TenantContainerRow.status), func.count()).group_by(
        col(TenantContainerRow.status)
    )
    rows = (await session.exec(statement)).all()  # type: ignore[call-overload]
    return {ClusterStatus(status): int(count) for status, count in rows if status}
