"""The write side of tenancy: every change of a tenant's records, each in one
transaction, each status change through ``ClusterRecord.transition`` (a compare-and-set, so
of concurrent changes of one cluster exactly one is recorded).

These record intent; the background worker carries it out in Kubernetes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.cluster import ClusterSpec
from app.models.usage import USAGE_FIELDS
from app.models.versions import DEFAULT_CATALOG, VersionCatalog
from app.store.db import SessionFactory, session_scope
from app.store.tables import (
    ClusterStatus,
    DeploymentStatusRow,
    TenantContainerRow,
    UsageSampleRow,
    utcnow,
)
from app.tenancy import ledger, naming, queries, quota, upgrades
from app.tenancy.clock import SYSTEM_CLOCK, Clock
from app.tenancy.creates import AuditRow, NewCluster, record_create
from app.tenancy.errors import ClusterChanged, Conflict, NotFound
from app.tenancy.leases import LeaseTerms
from app.tenancy.lifecycle import ClusterRecord
from app.tenancy.requests import UPDATABLE, ClusterRequest, parse_update_request
from app.tenancy.scope import Scope
from app.tenancy.shapes import deployment_details, spec_of

# Attempts of a delete that keeps losing the compare-and-set to other changes; each
# loss means another change was recorded, so this bound is only reached under a storm.
_DELETE_ATTEMPTS = 10
UPDATABLE_FROM = frozenset({ClusterStatus.CREATED, ClusterStatus.FAILED, ClusterStatus.DEGRADED})


async def create_cluster(
    *,
    sessions: SessionFactory,
    ids: naming.IdSequence,
    request: ClusterRequest,
    quotas: quota.QuotaDefaults = quota.NO_DEFAULTS,
    clock: Clock = SYSTEM_CLOCK,
    lease: LeaseTerms | None = None,
    audit_row: AuditRow | None = None,
) -> TenantContainerRow:
    """Record one new cluster in a transaction of its own (app.tenancy.creates; the
    server's creates go through app.tenancy.create_batches)."""
    new = NewCluster(
        request=request, ids=ids, quotas=quotas, clock=clock, lease=lease, audit_row=audit_row
    )
    return await record_create(sessions, new)


async def _locked_record(session: AsyncSession, container_id: str) -> ClusterRecord:
    record = await queries.container_pair(
        session=session, container_id=container_id, for_update=True
    )
    if record is None:  # pragma: no cover - looked up a moment ago in this transaction
        raise NotFound(f'cluster "{container_id}" vanished')
    return record


async def request_update(
    *,
    sessions: SessionFactory,
    scope: Scope,
    namespace: str,
    payload: Mapping[str, Any],
    quotas: quota.QuotaDefaults = quota.NO_DEFAULTS,
    versions: VersionCatalog = DEFAULT_CATALOG,
    clock: Clock = SYSTEM_CLOCK,
    lease: LeaseTerms | None = None,
) -> TenantContainerRow:
    """Record the wanted shape and move the cluster to ``updating`` (``upgrading`` when
    its version changes), both in the one compare-and-set, so only the spec of the
    update that wins is ever recorded; growth is checked against the quotas under the
    organisation's guard. An empty update re-applies the cluster's objects: the way to
    repair a degraded or failed one (a failed upgrade goes on as an upgrade).
    ``lease``: the replica that will carry it out takes the work in the same write."""
    async with sessions() as session:
        found = await queries.find_by_namespace(session=session, scope=scope, namespace=namespace)
    try:
        async with session_scope(sessions) as session:
            await quota.guard(session, tenant_org_id=found.tenant_org_id)
            record = await _locked_record(session, found.id)
            container, deployment = record.container, record.deployment
            _require_updatable(container, namespace, "it can be updated")
            status = ClusterStatus(container.status)
            current = spec_of(container)
            wanted = parse_update_request(payload, current=current, versions=versions)
            to, reason = _update_kind(
                namespace=namespace,
                status=status,
                current=current,
                wanted=wanted,
                payload=payload,
                upgrade_unfinished=deployment.upgrade is not None,
            )
            if to is ClusterStatus.UPGRADING and wanted.version != current.version:
                deployment.upgrade = upgrades.progress(
                    from_version=current.version, to_version=wanted.version, total=wanted.replicas
                )
            await quota.check_update(
                session=session, container=container, wanted=wanted, defaults=quotas
            )
            for field in UPDATABLE:
                setattr(container, field, getattr(wanted, field))
                if field in DeploymentStatusRow.model_fields:
                    setattr(deployment, field, getattr(wanted, field))
            deployment.details = deployment_details(wanted)
            at = clock()
            if lease is not None:
                lease.stamp(container)
            await record.transition(session=session, to=to, reason=reason, at=at)
            await ledger.record_change(session=session, container=container, at=at, opens=True)
            return container
    except ClusterChanged:
        raise await _lost_race(sessions, found, "update") from None


async def request_credentials_reset(
    *,
    sessions: SessionFactory,
    scope: Scope,
    namespace: str,
    clock: Clock = SYSTEM_CLOCK,
    lease: LeaseTerms | None = None,
) -> TenantContainerRow:
    """Record a new credentials generation (a new `elastic` password, app.secrets) and
    move the cluster to ``updating``, both in the one compare-and-set: the worker then
    re-applies the credentials Secret and rolls the pods onto it. Allowed when an
    update is; a deleted cluster is found, and refused as its status does not allow it.
    ``lease``: the replica that will carry it out takes the work in the same write."""
    async with sessions() as session:
        found = await queries.find_by_namespace(
            session=session, scope=scope, namespace=namespace, include_deleted=True
        )
    try:
        async with session_scope(sessions) as session:
            record = await _locked_record(session, found.id)
            container = record.container
            _require_updatable(container, namespace, "its credentials can be reset")
            container.credentials_generation += 1
            generation = container.credentials_generation
            if lease is not None:
                lease.stamp(container)
            await record.transition(
                session=session,
                to=ClusterStatus.UPDATING,
                reason=f"credentials reset requested (generation {generation})",
                at=clock(),
            )
            return container
    except ClusterChanged:
        raise await _lost_race(sessions, found, "credentials reset") from None


def _require_updatable(container: TenantContainerRow, namespace: str, allowed: str) -> None:
    status = ClusterStatus(container.status)
    if status not in UPDATABLE_FROM:
        raise Conflict(
            f'cluster in namespace "{namespace}" is {status.value}; {allowed} when {_updatable()}'
        )


async def _lost_race(
    sessions: SessionFactory, found: TenantContainerRow, what: str
) -> ClusterChanged:
    """The 409 of a change that lost the compare-and-set, saying where the cluster is now."""
    async with sessions() as session:
        now = await queries.get_container(session=session, container_id=found.id)
    status_now = now.status if now is not None else "gone"
    return ClusterChanged(
        f'cluster in namespace "{found.namespace}" was changed by another request while this '
        f"{what} was being recorded (it is now {status_now}); this {what} was not "
        f"applied: retry it when the cluster is {_updatable()}"
    )


def _update_kind(
    *,
    namespace: str,
    status: ClusterStatus,
    current: ClusterSpec,
    wanted: ClusterSpec,
    payload: Mapping[str, Any],
    upgrade_unfinished: bool,
) -> tuple[ClusterStatus, str]:
    """The status an update moves the cluster to, and the event's reason: an upgrade
    (a new version, and nothing else), the rest of a failed upgrade (a re-apply of a
    cluster whose upgrade did not finish: its new version is recorded already), or
    any other update."""
    if wanted.version != current.version:
        upgrades.refuse_other_changes(current=current, wanted=wanted)
        if status is not ClusterStatus.CREATED:
            raise Conflict(
                f'cluster in namespace "{namespace}" is {status.value}; an upgrade starts '
                "from created: repair it first with an update that changes nothing"
            )
        return ClusterStatus.UPGRADING, f"upgrade requested: {current.version} → {wanted.version}"
    if status is ClusterStatus.FAILED and upgrade_unfinished:
        return ClusterStatus.UPGRADING, f"re-apply requested: upgrade to {wanted.version} resumed"
    changed = sorted(k for k, v in payload.items() if v is not None)
    reason = f"update requested: {', '.join(changed)}" if changed else "re-apply requested"
    return ClusterStatus.UPDATING, reason


def _updatable() -> str:
    return ", ".join(sorted(s.value for s in UPDATABLE_FROM))


async def request_delete(
    *,
    sessions: SessionFactory,
    container_id: str,
    clock: Clock = SYSTEM_CLOCK,
    lease: LeaseTerms | None = None,
) -> tuple[TenantContainerRow, bool]:
    """Move the cluster to ``deleting``; a cluster already deleting or deleted is left
    as it is (deleting twice is not an error). Says whether it moved. ``lease``: the
    replica that will carry it out takes the work in the same write, from whichever
    replica held it (a create in progress there is fenced by the version).

    A delete may follow any status, so one that loses the compare-and-set to a
    concurrent change (an update, the worker finishing) reads the record again and
    retries: it supersedes that change rather than being refused."""
    for _ in range(_DELETE_ATTEMPTS):
        try:
            async with session_scope(sessions) as session:
                record = await _locked_record(session, container_id)
                if record.container.status in (ClusterStatus.DELETING, ClusterStatus.DELETED):
                    return record.container, False
                at = clock()
                if lease is not None:
                    lease.stamp(record.container)
                await record.transition(
                    session=session, to=ClusterStatus.DELETING, reason="delete requested", at=at
                )
                await ledger.record_change(
                    session=session, container=record.container, at=at, opens=False
                )
                return record.container, True
        except ClusterChanged:
            continue
    raise ClusterChanged(
        f'cluster "{container_id}" kept changing while the delete was being recorded; '
        "retry the delete"
    )


async def record_usage(
    *,
    sessions: SessionFactory,
    scope: Scope,
    namespace: str,
    values: Mapping[str, float],
    retention: timedelta,
    only_changes: bool = False,
    background: bool = False,
) -> DeploymentStatusRow:
    """Record usage. ``only_changes``: values that equal the last recorded ones write
    nothing (a measurement taken on every reconcile pass adds no sample while the
    cluster's use stays the same). ``background``: no caller waits (the reconciler)."""
    async with session_scope(sessions, background=background) as session:
        deployment = await queries.get_deployment(session=session, scope=scope, namespace=namespace)
        if deployment.status in (ClusterStatus.DELETING, ClusterStatus.DELETED):
            raise Conflict(
                f'cluster in namespace "{namespace}" is {deployment.status}; '
                "it takes no usage reports"
            )
        if only_changes and all(getattr(deployment, f) == v for f, v in values.items()):
            return deployment
        now = utcnow()
        for field, value in values.items():
            setattr(deployment, field, value)
        deployment.updated_at = now
        session.add(deployment)
        usage = {field: getattr(deployment, field) for field in USAGE_FIELDS}
        session.add(UsageSampleRow(deployment_id=deployment.id, at=now, **usage))
        await session.exec(
            delete(UsageSampleRow).where(
                col(UsageSampleRow.deployment_id) == deployment.id,
                col(UsageSampleRow.at) < now - retention,
            )
        )
        return deployment
