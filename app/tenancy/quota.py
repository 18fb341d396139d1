"""Quotas (spec section 9, and step 2 of the create flow): what an organisation, one of
its users and one of its services may hold, checked when a cluster is created or grows.

Atomic: a transaction that checks an organisation's quotas first writes that
organisation's guard row (``guard``), before it reads any usage. The write takes the
row's lock on PostgreSQL and the database's write lock on SQLite, held until commit,
so the checks of one organisation run one after another, each seeing every cluster
the ones before it recorded: concurrent creates can never both fit under one limit,
with any number of server processes. Organisations do not wait for each other on
PostgreSQL; SQLite has one writer at a time anyway.

Usage counts every cluster not deleted (deleting ones too: their resources are held
until Kubernetes has removed them).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models.cluster import ClusterSpec
from app.models.quota import QuotaLevel, QuotaLimits, QuotaUsage, excess
from app.store.tables import QuotaGuardRow, QuotaRow, TenantContainerRow
from app.tenancy.errors import QuotaExceeded
from app.tenancy.sizing import refuse_undersized


@dataclass(frozen=True)
class QuotaDefaults:
    """The operator's quotas for subjects the admin set none for (settings)."""

    organization: QuotaLimits = field(default_factory=QuotaLimits)
    user: QuotaLimits = field(default_factory=QuotaLimits)
    service: QuotaLimits = field(default_factory=QuotaLimits)

    def of(self, level: QuotaLevel) -> QuotaLimits:
        limits: QuotaLimits = getattr(self, level.value)
        return limits


# No operator defaults: only the quotas the admin set apply.
NO_DEFAULTS = QuotaDefaults()


@dataclass(frozen=True, kw_only=True)
class Subject:
    """Whose use a quota bounds: an organisation, a user of it, or one service of a user."""

    level: QuotaLevel
    tenant_org_id: str
    user: str = ""
    service_name: str = ""

    @classmethod
    def organization(cls, tenant_org_id: str) -> Subject:
        return cls(level=QuotaLevel.ORGANIZATION, tenant_org_id=tenant_org_id)

    @classmethod
    def of_user(cls, tenant_org_id: str, user: str) -> Subject:
        return cls(level=QuotaLevel.USER, tenant_org_id=tenant_org_id, user=user)

    @classmethod
    def service(cls, tenant_org_id: str, user: str, service_name: str) -> Subject:
        return cls(
            level=QuotaLevel.SERVICE,
            tenant_org_id=tenant_org_id,
            user=user,
            service_name=service_name,
        )

    @classmethod
    def all_of(cls, cluster: Any) -> tuple[Subject, Subject, Subject]:
        """The three quotas a cluster counts against, widest first."""
        org, user, service = cluster.tenant_org_id, cluster.user, cluster.service_name
        return cls.organization(org), cls.of_user(org, user), cls.service(org, user, service)

    @property
    def key(self) -> tuple[str, str, str]:
        """Organisation, user, service; empty where the quota is wider."""
        return (self.tenant_org_id, self.user, self.service_name)

    def __str__(self) -> str:
        org = f"organization {self.tenant_org_id}"
        if self.level is QuotaLevel.ORGANIZATION:
            return org
        if self.level is QuotaLevel.USER:
            return f"user {self.user} of {org}"
        return f"service {self.service_name} of user {self.user} in {org}"


@dataclass(frozen=True)
class QuotaReport:
    """A quota and what is held against it (the spec's section 9 document)."""

    subject: Subject
    limits: QuotaLimits
    usage: QuotaUsage
    is_default: bool  # no quota of its own: the operator's default applies


# -- the check -------------------------------------------------------------------------


async def guard(session: AsyncSession, *, tenant_org_id: str) -> None:
    """Take the organisation's quota lock for the rest of the transaction (see the
    module docstring). Must be the transaction's first statement: on SQLite a
    transaction that has already read cannot wait for the write lock, only fail."""
    await guard_all(session, [tenant_org_id])


async def guard_all(session: AsyncSession, tenant_org_ids: Iterable[str]) -> None:
    """``guard`` for several organisations in one statement, taken in the order of their
    ids: two transactions that take the same ones never wait for each other in a circle."""
    orgs = sorted(set(tenant_org_ids))
    statement = _guard_statement(session.get_bind().dialect.name, len(orgs))
    params = {f"g{n}": org for n, org in enumerate(orgs)}
    await session.exec(statement, params=params)


# Built once per dialect and number of organisations, the ids as parameters (g0, g1, ...
# in order): every create batch takes its guards, and building the statement cost more
# than running it.
@functools.lru_cache(maxsize=128)
def _guard_statement(dialect: str, orgs: int) -> Any:
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = QuotaGuardRow.__table__  # type: ignore[attr-defined]
    rows = [{"tenant_org_id": bindparam(f"g{n}"), "checks": 1} for n in range(orgs)]
    return (
        insert(table)
        .values(rows)
        .on_conflict_do_update(
            index_elements=[table.c.tenant_org_id], set_={"checks": table.c.checks + 1}
        )
    )


async def check_update(
    *,
    session: AsyncSession,
    container: TenantContainerRow,
    wanted: ClusterSpec,
    defaults: QuotaDefaults,
) -> None:
    """Refuse (``QuotaExceeded``) ``container`` growing to ``wanted`` past a limit of
    its quotas (only resources that grow can be refused), and (``Undersized``) taking
    memory away from one too small for its vectors when one of its quotas enforces
    sizing. Call ``guard`` first, in the same transaction. (New clusters:
    app.tenancy.creates.)"""
    subjects = Subject.all_of(container)
    limits = await limits_of(session, subjects, defaults)
    held = await usage_of(session, subjects)
    refuse_excess(limits=limits, held=held, before=container, after=wanted)


def refuse_excess(
    *,
    limits: dict[Subject, tuple[QuotaLimits, bool]],
    held: dict[Subject, QuotaUsage],
    before: ClusterSpec | None,
    after: ClusterSpec,
) -> None:
    """The check itself, on the limits and usage of the cluster's three subjects (widest
    first): ``QuotaExceeded`` or ``Undersized`` when ``before`` may not become ``after``."""
    change = QuotaUsage.of_cluster(after) - (
        QuotaUsage.of_cluster(before) if before else QuotaUsage()
    )
    for subject, (quota, _) in limits.items():
        found = excess(quota, before=held[subject], after=held[subject] + change)
        if found is not None:
            raise QuotaExceeded(f"quota exceeded for {subject}: {found}")
    if any(quota.enforce_sizing for quota, _ in limits.values()):
        refuse_undersized(spec=after, before=before)


async def limits_of(
    session: AsyncSession, subjects: Iterable[Subject], defaults: QuotaDefaults
) -> dict[Subject, tuple[QuotaLimits, bool]]:
    """Each subject's limits, and whether they are the operator's defaults."""
    subjects = list(subjects)
    stored = await stored_limits(session, {subject.tenant_org_id for subject in subjects})
    return limits_among(stored, subjects, defaults)


# Built once, the organisations as a parameter (a list: ``orgs``).
_LIMITS_OF_ORGS = select(QuotaRow).where(
    col(QuotaRow.tenant_org_id).in_(bindparam("orgs", expanding=True))
)


async def stored_limits(session: AsyncSession, orgs: Iterable[str]) -> dict[Subject, QuotaLimits]:
    """The quotas the admin set for the organisations ``orgs`` and their users and
    services (one query)."""
    rows = await session.exec(_LIMITS_OF_ORGS, params={"orgs": sorted(set(orgs))})
    return {
        _subject_of(row): QuotaLimits.model_validate(row, from_attributes=True) for row in rows
    }


def limits_among(
    stored: dict[Subject, QuotaLimits], subjects: Iterable[Subject], defaults: QuotaDefaults
) -> dict[Subject, tuple[QuotaLimits, bool]]:
    """Each subject's limits from ``stored``, else the operator's defaults (``True``)."""
    found: dict[Subject, tuple[QuotaLimits, bool]] = {}
    for subject in subjects:
        limits = stored.get(subject)
        found[subject] = (defaults.of(subject.level), True) if limits is None else (limits, False)
    return found


def _subject_of(row: QuotaRow) -> Subject:
    return Subject(
        level=QuotaLevel(row.level),
        tenant_org_id=row.tenant_org_id,
        user=row.user,
        service_name=row.service_name,
    )


# The columns of a cluster's size, which a usage count sums.
_SIZE_COLUMNS = ("replicas", "cpu_limit", "mem_limit", "disk_size", "gpu_count")


@dataclass
class _Held:
    """Clusters of one size held by one user (and, for the service quotas asked about,
    by one service; ``service_name`` is empty for all others), as counted together."""

    tenant_org_id: str
    user: str
    service_name: str
    replicas: int
    cpu_limit: str
    mem_limit: str
    disk_size: str
    gpu_count: int
    count: int

    def counted_under(self) -> tuple[tuple[str, str, str], ...]:
        """The keys (``Subject.key``) of the quotas these clusters count against: the
        organisation's, the user's, and the service's when it was asked about."""
        org, user = (self.tenant_org_id, "", ""), (self.tenant_org_id, self.user, "")
        if not self.service_name:
            return (org, user)
        return (org, user, (self.tenant_org_id, self.user, self.service_name))


@functools.lru_cache(maxsize=64)
def _usage_statement(services: int) -> Any:
    """What ``usage_of`` runs when it is asked about ``services`` services: the
    clusters not deleted of the organisations ``orgs``, counted per user and size, and
    per service for the services asked about (``o{n}``, ``u{n}``, ``s{n}``: the nth one's
    organisation, user and name). Its values are parameters, so it is built once per
    number of services: building SQLAlchemy's expression anew cost more than the query."""
    table = TenantContainerRow
    org, user, service_name = (
        col(table.tenant_org_id),
        col(table.user),
        col(table.service_name),
    )
    service_key: Any = literal("")
    if services:
        service_key = case(
            *(
                (
                    and_(
                        org == bindparam(f"o{n}"),
                        user == bindparam(f"u{n}"),
                        service_name == bindparam(f"s{n}"),
                    ),
                    service_name,
                )
                for n in range(services)
            ),
            else_="",
        )
    sizes = [col(getattr(table, name)) for name in _SIZE_COLUMNS]
    # Grouped in an outer query, by the inner one's columns: PostgreSQL does not take an
    # expression with bound parameters as the same in SELECT and GROUP BY.
    inner = (
        select_columns(org, user, service_key.label("service_key"), *sizes)
        .where(org.in_(bindparam("orgs", expanding=True)), col(table.deleted_at).is_(None))
        .subquery()
    )
    keys = [
        inner.c.tenant_org_id,
        inner.c.user,
        inner.c.service_key,
        *(inner.c[n] for n in _SIZE_COLUMNS),
    ]
    # sqlmodel types select() for up to four columns; this is plain SQLAlchemy.
    return select_columns(*keys, func.count()).group_by(*keys)


async def usage_of(session: AsyncSession, subjects: Iterable[Subject]) -> dict[Subject, QuotaUsage]:
    """What the clusters not deleted hold against each subject's quota (one query for
    all the organisations of ``subjects``).

    The database counts the clusters of each size per user (and per service for the
    services asked about), so what is read and parsed here is a handful of rows however
    many clusters an organisation has: a create checks its quotas while it holds the
    database's write lock, and reading every cluster made each create of a growing
    organisation slower than the last."""
    subjects = list(dict.fromkeys(subjects))  # each once, however often it was asked about
    held = dict.fromkeys(subjects, QuotaUsage())
    services = [s for s in subjects if s.service_name]
    params: dict[str, Any] = {"orgs": sorted({s.tenant_org_id for s in subjects})}
    for n, s in enumerate(services):
        params.update({f"o{n}": s.tenant_org_id, f"u{n}": s.user, f"s{n}": s.service_name})
    statement = _usage_statement(len(services))
    rows: Any = await session.exec(statement, params=params)  # type: ignore[call-overload]
    by_key = {subject.key: subject for subject in subjects}
    for row in rows:
        group = _Held(*row)
        usage = QuotaUsage.of_cluster(group).times(group.count)
        for key in group.counted_under():
            subject = by_key.get(key)
            if subject is not None:
                held[subject] += usage
    return held
