"""Recording new clusters (steps 2-4 of the create flow): check the quotas, then write
both records (status ``pending``), the first transition's event, the first ledger
segment and the audit line, in one transaction under the organisations' quota guards.

One create or several in one transaction (``record_creates``; app.tenancy.create_batches
gathers them): each is checked in turn against what the ones before it add, as one
transaction after another would check them. The unique indexes make the duplicate and
namespace checks atomic; a look-up after a refused INSERT only words the error
(``record_create``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.kube.namespaces import unavailable_message
from app.models.quota import QuotaUsage
from app.store.db import SessionFactory, session_scope
from app.store.inserts import insert_rows, new_row
from app.store.tables import ClusterStatus, DeploymentStatusRow, TenantContainerRow
from app.tenancy import ledger, naming, quota
from app.tenancy.clock import SYSTEM_CLOCK, Clock
from app.tenancy.errors import Conflict, QuotaExceeded, Undersized
from app.tenancy.leases import LeaseTerms
from app.tenancy.lifecycle import ClusterRecord
from app.tenancy.requests import ClusterRequest
from app.tenancy.shapes import deployment_details

# The audit line of a change, given the cluster's namespace: written by the command in
# the change's own transaction (the api layer builds it; app.access.audit).
AuditRow = Callable[[str], SQLModel]
# Attempts at a fresh id when another control-plane replica took the same one.
_ID_ATTEMPTS = 5
# A new record has no status until its first transition (to pending, in the same
# transaction); its NOT NULL column holds "" meanwhile.
_UNRECORDED = cast(ClusterStatus, "")


@dataclass(frozen=True, kw_only=True)
class NewCluster:
    """A create to record: the request and the terms it is recorded under.
    ``lease``: the replica that will provision it takes its work in the same INSERT
    (without one, the next replica to start claims it). ``audit_row`` gives the audit
    line to write with the records (from the namespace)."""

    request: ClusterRequest
    ids: naming.IdSequence
    quotas: quota.QuotaDefaults = quota.NO_DEFAULTS
    clock: Clock = SYSTEM_CLOCK
    lease: LeaseTerms | None = None
    audit_row: AuditRow | None = None


async def record_create(
    sessions: SessionFactory, new: NewCluster, *, turn_held: bool = False
) -> TenantContainerRow:
    """One create in a transaction of its own: its record, or its refusal raised (a
    quota, or the 409 of a duplicate). ``turn_held``: the caller holds the writer's turn
    (app.store.db.writer_turn)."""
    for _ in range(_ID_ATTEMPTS):
        try:
            async with session_scope(sessions, turn_held=turn_held) as session:
                [outcome] = await record_creates(session, [new])
                if isinstance(outcome, Exception):
                    raise outcome  # in the transaction: its quota guard is rolled back
                return outcome
        except IntegrityError:
            # Lost a race: either a concurrent create of the same tenant or namespace
            # (the look-up now words the 409), or an id clash (draw a new one).
            await refuse_conflicts(sessions=sessions, request=new.request)
    raise Conflict("could not record the cluster after several attempts; try again")


async def record_creates(
    session: AsyncSession, news: Sequence[NewCluster]
) -> list[TenantContainerRow | Exception]:
    """Check each of ``news`` in order and INSERT the rows of those that pass (one
    statement per table); each one's record or quota refusal, in order. No look-up for
    a duplicate first: the unique indexes refuse it (``IntegrityError``)."""
    orgs = {new.request.tenant_org_id for new in news}
    await quota.guard_all(session, orgs)  # first: see app.tenancy.quota
    subjects = [quota.Subject.all_of(new.request) for new in news]
    stored = await quota.stored_limits(session, orgs)
    held = await quota.usage_of(session, [s for three in subjects for s in three])
    rows: list[SQLModel] = []
    outcomes: list[TenantContainerRow | Exception] = []
    for new, three in zip(news, subjects, strict=True):
        try:
            quota.refuse_excess(
                limits=quota.limits_among(stored, three, new.quotas),
                held=held,
                before=None,
                after=new.request,
            )
        except (QuotaExceeded, Undersized) as refused:
            outcomes.append(refused)
            continue
        for subject in three:  # what the creates after it see
            held[subject] += QuotaUsage.of_cluster(new.request)
        container, records = _new_records(new)
        rows += records
        outcomes.append(container)
    await insert_rows(session, rows)
    return outcomes


async def refuse_conflicts(*, sessions: SessionFactory, request: ClusterRequest) -> None:
    """The 409 the records give for this request, if any (raised as ``Conflict``)."""
    async with sessions() as session:
        live = col(TenantContainerRow.deleted_at).is_(None)
        same_tenant = await session.exec(
            select(TenantContainerRow.id).where(
                live,
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
            select(TenantContainerRow.id).where(
                live, TenantContainerRow.namespace == request.namespace
            )
        )
        if same_namespace.first() is not None:
            # The same words as for a namespace that exists in Kubernetes: who holds it,
            # another org or nobody on the platform, is not the caller's to learn.
            raise Conflict(unavailable_message(request.namespace))


def _new_records(new: NewCluster) -> tuple[TenantContainerRow, list[SQLModel]]:
    """A new cluster's container record and every row its create INSERTs: both records
    in their first transition, its event, its first ledger segment and the audit line."""
    request, n, now = new.request, new.ids.next(), new.clock()
    fields = request.model_dump()
    container = new_row(
        TenantContainerRow,
        **fields,
        id=naming.container_id(user=request.user, service_name=request.service_name, n=n),
        status=_UNRECORDED,
        created_at=now,
        updated_at=now,
    )
    # The DeploymentStatus repeats the request's fields it has columns for.
    deployment = new_row(
        DeploymentStatusRow,
        **{name: fields[name] for name in fields.keys() & DeploymentStatusRow.model_fields},
        id=naming.deployment_id(namespace=request.namespace, n=n),
        container_id=container.id,
        status=_UNRECORDED,
        created_at=now,
        updated_at=now,
        details=deployment_details(request),
    )
    if new.lease is not None:
        new.lease.stamp(container)
    rows = ClusterRecord(container, deployment).first_rows(
        reason="cluster recorded; provisioning queued", at=now
    )
    rows.append(ledger.segment(container, now))
    if new.audit_row is not None:
        rows.append(new.audit_row(container.namespace))
    return container, rows
