"""The create flow's recording step and the tenant queries.

Keyword-only functions that take their session explicitly; the api layer calls them,
and the provisioner (background) moves the recorded clusters on.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.db import SessionFactory, session_scope
from app.store.tables import (
    ClusterEventRow,
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
    utcnow,
)
from app.tenancy import naming
from app.tenancy.errors import Conflict, NotFound
from app.tenancy.lifecycle import record_transition
from app.tenancy.quota import check_quota
from app.tenancy.requests import ClusterRequest

# Attempts at a fresh id when another control-plane replica took the same one.
_ID_ATTEMPTS = 5


async def create_cluster(
    *, sessions: SessionFactory, ids: naming.IdSequence, request: ClusterRequest
) -> TenantContainerRow:
    for _ in range(_ID_ATTEMPTS):
        try:
            async with session_scope(sessions) as session:
                await check_quota(session=session, request=request)
                await _refuse_conflicts(session=session, request=request)
                return _new_records(session=session, request=request, n=ids.next())
        except IntegrityError:
            # Lost a race: either a concurrent create of the same tenant or namespace
            # (the look-up now words the 409), or an id clash (draw a new one).
            async with sessions() as session:
                await _refuse_conflicts(session=session, request=request)
    raise Conflict("could not record the cluster after several attempts; try again")


async def _refuse_conflicts(*, session: AsyncSession, request: ClusterRequest) -> None:
    same_tenant = await session.exec(
        select(TenantContainerRow.id).where(
            TenantContainerRow.tenant_org_id == request.tenant_org_id,
            TenantContainerRow.user == request.user,
            TenantContainerRow.service_name == request.service_name,
        )
    )
    if same_tenant.first() is not None:
        raise Conflict(
            f'a cluster for service "{request.service_name}" of user "{request.user}" '
            f'already exists in organisation "{request.tenant_org_id}"'
        )
    same_namespace = await session.exec(
        select(TenantContainerRow.id).where(TenantContainerRow.namespace == request.namespace)
    )
    if same_namespace.first() is not None:
        # Deliberately not naming the tenant that holds it: that may be another org.
        raise Conflict(
            f'namespace "{request.namespace}" is already used by another tenant\'s cluster; '
            "pass a different namespace"
        )


def _new_records(*, session: AsyncSession, request: ClusterRequest, n: int) -> TenantContainerRow:
    now = utcnow()
    container = TenantContainerRow(
        id=naming.container_id(user=request.user, service_name=request.service_name, n=n),
        tenant_org_id=request.tenant_org_id,
        user=request.user,
        service_name=request.service_name,
        namespace=request.namespace,
        replicas=request.replicas,
        cpu_request=request.cpu_request,
        cpu_limit=request.cpu_limit,
        mem_request=request.mem_request,
        mem_limit=request.mem_limit,
        disk_size=request.disk_size,
        gpu_count=request.gpu_count,
        dimension=request.dimension,
        vector_count=request.vector_count,
        index_limit=request.index_limit,
        gitlab_url=request.gitlab_url,
        status="",
        created_at=now,
        updated_at=now,
    )
    deployment = DeploymentStatusRow(
        id=naming.deployment_id(namespace=request.namespace, n=n),
        container_id=container.id,
        tenant_org_id=request.tenant_org_id,
        namespace=request.namespace,
        user=request.user,
        service_name=request.service_name,
        status="",
        gpu_count=request.gpu_count,
        dimension=request.dimension,
        vector_count=request.vector_count,
        replicas=request.replicas,
        created_at=now,
        updated_at=now,
        details=deployment_details(container),
    )
    # The container row must exist before rows that reference it.
    session.add(container)
    record_transition(
        session=session,
        container=container,
        deployment=deployment,
        to=ClusterStatus.PENDING,
        reason="cluster recorded; provisioning queued",
        at=now,
    )
    return container


def deployment_details(container: TenantContainerRow) -> dict[str, object]:
    return {
        "cpu_request": container.cpu_request,
        "cpu_limit": container.cpu_limit,
        "mem_request": container.mem_request,
        "mem_limit": container.mem_limit,
        "disk_size": container.disk_size,
        "gpu_count": container.gpu_count,
        "dimension": container.dimension,
        "vector_count": container.vector_count,
        "index_limit": container.index_limit,
    }


# -- queries ---------------------------------------------------------------------------


def _ordered(statement):  # type: ignore[no-untyped-def]
    return statement.order_by(col(TenantContainerRow.created_at), col(TenantContainerRow.id))


async def list_containers(*, session: AsyncSession) -> Sequence[TenantContainerRow]:
    return (await session.exec(_ordered(select(TenantContainerRow)))).all()


async def list_org_containers(
    *, session: AsyncSession, tenant_org_id: str
) -> Sequence[TenantContainerRow]:
    statement = select(TenantContainerRow).where(TenantContainerRow.tenant_org_id == tenant_org_id)
    return (await session.exec(_ordered(statement))).all()


async def containers_of_orgs(
    *, session: AsyncSession, tenant_org_ids: Sequence[str]
) -> dict[str, list[TenantContainerRow]]:
    """One query for many organisations (the GraphQL DataLoader's batch)."""
    found: dict[str, list[TenantContainerRow]] = {org: [] for org in tenant_org_ids}
    statement = select(TenantContainerRow).where(
        col(TenantContainerRow.tenant_org_id).in_(list(tenant_org_ids))
    )
    for row in (await session.exec(_ordered(statement))).all():
        found[row.tenant_org_id].append(row)
    return found


async def find_container(
    *, session: AsyncSession, user: str, service_name: str, tenant_org_id: str | None = None
) -> TenantContainerRow:
    statement = select(TenantContainerRow).where(
        TenantContainerRow.user == user, TenantContainerRow.service_name == service_name
    )
    if tenant_org_id is not None:
        statement = statement.where(TenantContainerRow.tenant_org_id == tenant_org_id)
    rows = (await session.exec(_ordered(statement))).all()
    if not rows:
        where = f' in organisation "{tenant_org_id}"' if tenant_org_id is not None else ""
        raise NotFound(f'no cluster for service "{service_name}" of user "{user}"{where}')
    if len(rows) > 1:
        orgs = ", ".join(row.tenant_org_id for row in rows)
        raise Conflict(
            f'service "{service_name}" of user "{user}" exists in several organisations '
            f"({orgs}); pass tenant_org_id to choose one"
        )
    return rows[0]


async def get_container(*, session: AsyncSession, container_id: str) -> TenantContainerRow | None:
    return await session.get(TenantContainerRow, container_id)


async def get_deployment(*, session: AsyncSession, namespace: str) -> DeploymentStatusRow:
    statement = select(DeploymentStatusRow).where(DeploymentStatusRow.namespace == namespace)
    row = (await session.exec(statement)).first()
    if row is None:
        raise NotFound(f'no deployment in namespace "{namespace}"')
    return row


async def deployments_of_containers(
    *, session: AsyncSession, container_ids: Sequence[str]
) -> dict[str, DeploymentStatusRow]:
    statement = select(DeploymentStatusRow).where(
        col(DeploymentStatusRow.container_id).in_(list(container_ids))
    )
    return {row.container_id: row for row in (await session.exec(statement)).all()}


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


async def containers_in_progress(*, session: AsyncSession) -> Sequence[TenantContainerRow]:
    statement = select(TenantContainerRow).where(
        col(TenantContainerRow.status).in_(
            [ClusterStatus.PENDING.value, ClusterStatus.CREATING.value]
        )
    )
    return (await session.exec(_ordered(statement))).all()
