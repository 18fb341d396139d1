"""The operations users ask for, start to finish: validate, record the intent (before
the API answers), then hand the cluster to the background worker.

Create follows spec section 4: validate, check the quota, record both records, then
provision in the background (steps 5-9)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.store.db import SessionFactory
from app.store.tables import ClusterStatus, DeploymentStatusRow, TenantContainerRow
from app.tenancy import commands, queries
from app.tenancy.errors import InvalidInput
from app.tenancy.naming import IdSequence
from app.tenancy.provisioning import ClusterWorker
from app.tenancy.requests import REQUIRED_MESSAGES, parse_create_request
from app.tenancy.scope import Scope
from app.tenancy.usage import parse_usage_report


async def create_cluster(
    *,
    sessions: SessionFactory,
    ids: IdSequence,
    worker: ClusterWorker,
    scope: Scope,
    payload: Mapping[str, Any],
) -> TenantContainerRow:
    request = parse_create_request(payload)
    scope.require_acting(tenant_org_id=request.tenant_org_id, user=request.user)
    container = await commands.create_cluster(sessions=sessions, ids=ids, request=request)
    worker.submit(container.id)
    return container


async def update_cluster(
    *,
    sessions: SessionFactory,
    worker: ClusterWorker,
    scope: Scope,
    namespace: str,
    payload: Mapping[str, Any],
) -> TenantContainerRow:
    container = await commands.request_update(
        sessions=sessions, scope=scope, namespace=namespace, payload=payload
    )
    worker.submit(container.id)
    return container


async def delete_cluster(
    *,
    sessions: SessionFactory,
    worker: ClusterWorker,
    scope: Scope,
    namespace: str | None = None,
    tenant_org_id: str | None = None,
    user: str | None = None,
    service_name: str | None = None,
) -> TenantContainerRow:
    """Delete by namespace, or by organisation, user and service name."""
    async with sessions() as session:
        if namespace:
            target = await queries.find_by_namespace(
                session=session, scope=scope, namespace=namespace, include_deleted=True
            )
        else:
            key = {"tenant_org_id": tenant_org_id, "user": user, "service_name": service_name}
            for field, message in REQUIRED_MESSAGES.items():
                if not key[field]:
                    raise InvalidInput(f"{message} (or give the namespace)")
            target = await queries.find_container(
                session=session,
                scope=scope,
                user=str(user),
                service_name=str(service_name),
                tenant_org_id=str(tenant_org_id),
                include_deleted=True,
            )
    container, moved = await commands.request_delete(sessions=sessions, container_id=target.id)
    if moved:
        # A create or update still running for it is overtaken, not awaited.
        await worker.resubmit(container.id)
    elif container.status == ClusterStatus.DELETING:
        worker.submit(container.id)
    return container


async def report_usage(
    *,
    sessions: SessionFactory,
    scope: Scope,
    namespace: str,
    payload: Mapping[str, Any],
    retention: timedelta,
) -> DeploymentStatusRow:
    values = parse_usage_report(payload)
    return await commands.record_usage(
        sessions=sessions, scope=scope, namespace=namespace, values=values, retention=retention
    )
