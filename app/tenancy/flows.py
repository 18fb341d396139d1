"""The operations users ask for, start to finish: validate, record the intent (before
the API answers), then hand the cluster to the background worker.

Create follows spec section 4: validate, check the quota, record both records, then
provision in the background (steps 5-9)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.kube.namespace_informer import NamespaceInformer
from app.kube.namespaces import unavailable_message
from app.models.versions import VersionCatalog
from app.store.db import SessionFactory
from app.store.tables import ClusterStatus, DeploymentStatusRow, TenantContainerRow
from app.tenancy import commands, queries
from app.tenancy.clock import Clock
from app.tenancy.create_batches import batches_of
from app.tenancy.creates import AuditRow, NewCluster, refuse_conflicts
from app.tenancy.errors import Conflict, InvalidInput
from app.tenancy.naming import IdSequence, ReservedNamespaces
from app.tenancy.provisioning import ClusterWorker
from app.tenancy.quota import QuotaDefaults
from app.tenancy.requests import REQUIRED_MESSAGES, ClusterRequest, parse_create_request
from app.tenancy.scope import Scope
from app.tenancy.usage import parse_usage_report

log = logging.getLogger(__name__)
# How long a create waits for Kubernetes to say whether the namespace exists.
NAMESPACE_CHECK_SECONDS = 5.0


async def create_cluster(
    *,
    sessions: SessionFactory,
    ids: IdSequence,
    worker: ClusterWorker,
    namespaces: NamespaceInformer,
    reserved: ReservedNamespaces,
    scope: Scope,
    payload: Mapping[str, Any],
    quotas: QuotaDefaults,
    versions: VersionCatalog,
    clock: Clock,
    audit_row: AuditRow | None = None,
) -> TenantContainerRow:
    """``audit_row``: the caller's audit line of the create, written with the records."""
    request = parse_create_request(
        payload,
        reserved=reserved,
        org_prefixed=scope.tenant_org_id is not None,
        versions=versions,
    )
    scope.require_acting(tenant_org_id=request.tenant_org_id, user=request.user)
    await _refuse_existing_namespace(sessions=sessions, namespaces=namespaces, request=request)
    container = await batches_of(sessions).create(
        NewCluster(
            request=request,
            ids=ids,
            quotas=quotas,
            clock=clock,
            lease=worker.lease,
            audit_row=audit_row,
        )
    )
    worker.submit(container.id)
    return container


async def _refuse_existing_namespace(
    *, sessions: SessionFactory, namespaces: NamespaceInformer, request: ClusterRequest
) -> None:
    """A new cluster cannot own a namespace that already exists (its ownership mark
    would name another cluster, or none). When Kubernetes cannot say right now, the
    create goes on: the worker looks again before it touches the namespace."""
    exists = await namespaces.exists(request.namespace, timeout=NAMESPACE_CHECK_SECONDS)
    if exists is None:
        log.info("could not check namespace %s now; provisioning will", request.namespace)
        return
    if not exists:
        return
    # The tenant's own duplicate is worded as such, as when the namespace is not yet made.
    await refuse_conflicts(sessions=sessions, request=request)
    raise Conflict(unavailable_message(request.namespace))


async def update_cluster(
    *,
    sessions: SessionFactory,
    worker: ClusterWorker,
    scope: Scope,
    namespace: str,
    payload: Mapping[str, Any],
    quotas: QuotaDefaults,
    versions: VersionCatalog,
    clock: Clock,
) -> TenantContainerRow:
    container = await commands.request_update(
        sessions=sessions,
        scope=scope,
        namespace=namespace,
        payload=payload,
        quotas=quotas,
        versions=versions,
        clock=clock,
        lease=worker.lease,
    )
    worker.submit(container.id)
    return container


async def reset_credentials(
    *, sessions: SessionFactory, worker: ClusterWorker, scope: Scope, namespace: str, clock: Clock
) -> TenantContainerRow:
    container = await commands.request_credentials_reset(
        sessions=sessions, scope=scope, namespace=namespace, clock=clock, lease=worker.lease
    )
    worker.submit(container.id)
    return container


async def delete_cluster(
    *,
    sessions: SessionFactory,
    worker: ClusterWorker,
    scope: Scope,
    clock: Clock,
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
    container, moved = await commands.request_delete(
        sessions=sessions, container_id=target.id, clock=clock, lease=worker.lease
    )
    if moved:
        # A create or update still running for it is overtaken, not awaited.
        await worker.resubmit(container.id)
    elif container.status == ClusterStatus.DELETING:
        worker.submit(container.id)
    return container


async def upgrades_of(
    *, sessions: SessionFactory, scope: Scope, namespace: str, versions: VersionCatalog
) -> tuple[TenantContainerRow, tuple[str, ...]]:
    """A cluster, and the versions it may be upgraded to."""
    async with sessions() as session:
        container = await queries.find_by_namespace(
            session=session, scope=scope, namespace=namespace
        )
    return container, versions.upgrades_from(container.version)


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
