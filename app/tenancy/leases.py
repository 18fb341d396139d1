"""Leases: which control-plane replica does a cluster's work, recorded on its row.

A cluster's lease (``lease_owner``, ``lease_expires_at`` on its container row) names
the replica working on it and until when. With several replicas on one database, each
operation runs on exactly one of them:

- The replica that records a change (a create, update or delete request) stamps its
  own lease into the same row write: no extra statement, and it starts at once.
- While it works, the replica renews all its leases with one statement per heartbeat.
- A replica that dies stops renewing; once its leases expire, another replica's scan
  claims the work (a compare-and-set on the row's version, ``SKIP LOCKED`` on
  PostgreSQL so that scans running together take disjoint rows), and records the
  takeover as an event of the cluster.
- Taking a lease over from another replica bumps the row's version: the version is
  the fencing token. A replica that was only stalled, not dead, finds at its next
  check (before every step that changes Kubernetes) that the cluster moved on, and
  its outcome is dropped (app.tenancy.provisioning).

The reconciler claims running clusters the same way, for one interval: whichever
replica claims a cluster checks it, and no other does until the lease runs out.

Times are the replicas' own clocks (UTC); they must agree to well within a lease.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.store.tables import IN_PROGRESS, TenantContainerRow, utcnow
from app.tenancy.errors import ClusterChanged
from app.tenancy.lifecycle import record_progress

# Rows renewed or released per statement (bound parameters stay well under the limits).
_CHUNK = 500
T = TenantContainerRow


@dataclass(frozen=True, kw_only=True)
class LeaseTerms:
    """This replica's leases: who it is and how long a lease lasts unrenewed."""

    owner: str
    seconds: float

    def until(self, now: datetime | None = None) -> datetime:
        return (now or utcnow()) + timedelta(seconds=self.seconds)

    def stamp(self, container: TenantContainerRow) -> None:
        """Take the cluster's work in the write that records it (the caller's row
        write, which is a compare-and-set on the version: whoever held it is fenced)."""
        container.lease_owner = self.owner
        container.lease_expires_at = self.until()


def held_elsewhere(container: TenantContainerRow, *, owner: str) -> bool:
    """Another replica holds the cluster's lease, and it has not run out."""
    if container.lease_owner in (None, owner) or container.lease_expires_at is None:
        return False
    expires = container.lease_expires_at
    if expires.tzinfo is None:  # SQLite keeps the UTC time without its zone
        expires = expires.replace(tzinfo=UTC)
    return expires > utcnow()


async def take(session: AsyncSession, container: TenantContainerRow, terms: LeaseTerms) -> None:
    """Stamp this replica's lease on a loaded row (written by the caller's next flush,
    a compare-and-set on the version) and record a takeover from another replica."""
    previous, expires = container.lease_owner, container.lease_expires_at
    terms.stamp(container)
    if previous is not None and previous != terms.owner:
        await record_progress(
            session=session,
            container_id=container.id,
            status=container.status,
            reason=_takeover(terms.owner, previous, expires),
        )


async def write(session: AsyncSession, container: TenantContainerRow) -> None:
    """Write a stamped row now, a compare-and-set on its version: ``ClusterChanged``
    when it changed since it was read (whoever changed it holds the work)."""
    session.add(container)
    try:
        await session.flush()
    except StaleDataError:
        raise ClusterChanged(f"cluster {container.id} changed while its lease was taken") from None


def release(container: TenantContainerRow) -> None:
    """Give the lease up in the write that records the work's outcome."""
    container.lease_owner = None
    container.lease_expires_at = None


def _expired(now: datetime) -> sa.ColumnElement[bool]:
    return col(T.lease_expires_at) < now


def _in_progress() -> sa.ColumnElement[bool]:
    return col(T.status).in_([status.value for status in IN_PROGRESS])


async def renew(
    session: AsyncSession, *, terms: LeaseTerms, container_ids: Collection[str]
) -> set[str]:
    """Renew this replica's leases of ``container_ids``; returns those still its own
    (one it lost was taken over: its work there is fenced)."""
    held: set[str] = set()
    ids, until = sorted(container_ids), terms.until()
    for start in range(0, len(ids), _CHUNK):
        statement = (
            sa.update(T)
            .where(col(T.id).in_(ids[start : start + _CHUNK]), col(T.lease_owner) == terms.owner)
            .values(lease_expires_at=until)
            .returning(col(T.id))
        )
        held.update((await session.exec(statement)).scalars().all())
    return held


async def held_by_others(
    session: AsyncSession, *, owner: str, container_ids: Collection[str]
) -> set[str]:
    """Which of ``container_ids`` another replica holds now."""
    if not container_ids:
        return set()
    statement = select(T.id).where(
        col(T.id).in_(sorted(container_ids)),
        col(T.lease_owner).is_not(None),
        col(T.lease_owner) != owner,
    )
    return set((await session.exec(statement)).all())


async def claim_work(
    session: AsyncSession,
    *,
    terms: LeaseTerms,
    limit: int,
    skip: Collection[str] = (),
    unleased: bool = False,
) -> list[str]:
    """Claim up to ``limit`` clusters with work owed whose lease expired (with
    ``unleased``, at start-up: also those never leased and those this replica's
    previous run held). Returns their ids; each claim is recorded."""
    now = utcnow()
    claimable = _expired(now)
    if unleased:
        claimable = sa.or_(
            claimable, col(T.lease_owner).is_(None), col(T.lease_owner) == terms.owner
        )
    statement = (
        sa.select(
            col(T.id),
            col(T.row_version),
            col(T.lease_owner),
            col(T.lease_expires_at),
            col(T.status),
        )
        .where(_in_progress(), claimable)
        .order_by(col(T.updated_at), col(T.id))
        .limit(limit + len(skip))
        # Scans of several replicas at once take disjoint rows (PostgreSQL; ignored on
        # SQLite, whose single writer serialises the compare-and-sets below anyway).
        .with_for_update(skip_locked=True)
    )
    found = await session.exec(statement)  # type: ignore[call-overload]
    rows = [row for row in found.all() if row[0] not in skip]
    claimed: list[str] = []
    for container_id, version, owner, expires, status in rows[:limit]:
        taken_over = owner is not None and owner != terms.owner
        cas = (
            sa.update(T)
            .where(col(T.id) == container_id, col(T.row_version) == version)
            .values(
                lease_owner=terms.owner,
                lease_expires_at=terms.until(now),
                # The fencing token: the replica it is taken from may only be stalled.
                row_version=version + 1 if taken_over else version,
            )
            .execution_options(synchronize_session=False)
        )
        if (await session.exec(cas)).rowcount != 1:
            continue  # changed since it was read: whoever changed it holds it
        claimed.append(container_id)
        if taken_over:
            await record_progress(
                session=session,
                container_id=container_id,
                status=status,
                reason=_takeover(terms.owner, owner, expires),
            )
    return claimed


async def claim_checks(
    session: AsyncSession,
    *,
    terms: LeaseTerms,
    statuses: Sequence[str],
    pass_started: datetime,
    limit: int,
) -> list[TenantContainerRow]:
    """Claim up to ``limit`` clusters in ``statuses`` for a reconciler pass that began at
    ``pass_started``: those nobody holds, those whose holder let the lease run out, and
    this replica's own not yet checked in this pass. A replica keeps checking the
    clusters it claimed, pass after pass; those of a replica that stopped are taken
    over when its claims run out (``terms.seconds``, longer than a pass's interval).
    The version is left alone: a check changes nothing unless it records a transition,
    itself a compare-and-set."""
    now = utcnow()
    unchecked_mine = (col(T.lease_owner) == terms.owner) & (
        col(T.lease_expires_at) < terms.until(pass_started)
    )
    claimable = sa.and_(
        col(T.status).in_(statuses),
        sa.or_(col(T.lease_owner).is_(None), _expired(now), unchecked_mine),
    )
    statement = (
        select(T.id)
        .where(claimable)
        .order_by(col(T.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.exec(statement)).all())
    if not ids:
        return []
    claim = (
        sa.update(T)
        # The condition again: on SQLite another process may have claimed meanwhile.
        .where(col(T.id).in_(ids), claimable)
        .values(lease_owner=terms.owner, lease_expires_at=terms.until(now))
        .returning(col(T.id))
        .execution_options(synchronize_session=False)
    )
    claimed = list((await session.exec(claim)).scalars().all())
    rows = await session.exec(select(T).where(col(T.id).in_(claimed)).order_by(col(T.id)))
    return list(rows.all())


async def expire_all(session: AsyncSession, *, owner: str) -> int:
    """Let every lease of ``owner`` run out now (a replica shutting down): the other
    replicas' next scan takes the work over without waiting for the expiry."""
    statement = (
        sa.update(T)
        .where(col(T.lease_owner) == owner)
        .values(lease_expires_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(statement)
    return int(result.rowcount)


def _takeover(owner: str, previous: str, expires: datetime | None) -> str:
    moment = expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if expires is not None else "(unset)"
    return f"work taken over by replica {owner}: replica {previous}'s lease ran out at {moment}"
