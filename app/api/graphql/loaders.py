"""Per-request DataLoaders: a whole organisation tree costs a constant number of
queries (containers of the orgs, then deployments and events of all those
containers), not one per container."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from app.api.graphql.reading import Reading
from app.store.db import SessionFactory
from app.store.tables import (
    ClusterEventRow,
    DeploymentStatusRow,
    UsageSampleRow,
)
from app.tenancy import paging, queries, quota_settings
from app.tenancy.listings import Listing
from app.tenancy.paging import PageRequest, Slice
from app.tenancy.queries import OrgContainers
from app.tenancy.quota import QuotaDefaults, QuotaReport
from app.tenancy.scope import Scope

K = TypeVar("K")
V = TypeVar("V")


def _batched(
    sessions: SessionFactory,
    fetch: Callable[[AsyncSession, list[K]], Awaitable[Mapping[K, V]]],
    missing: Callable[[], V],
) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> Sequence[V]:
        async with sessions() as session:
            found = await fetch(session, keys)
        return [found[key] if key in found else missing() for key in keys]

    return DataLoader(load_fn=load)


@dataclass(frozen=True)
class Loaders:
    # keyed by (tenant_org_id, include_deleted, with their deployments, the columns
    # read): one statement for a batch, the deployments joined when any key asks for
    # them, the columns any key asks for
    org_containers: DataLoader[tuple[str, bool, bool, Reading], OrgContainers]
    deployment_by_container: DataLoader[str, DeploymentStatusRow | None]
    # keyed by a whole list's container ids: the deployments of every list loaded in
    # one tick, in one statement, without a future per container
    deployments_of_lists: DataLoader[tuple[str, ...], dict[str, DeploymentStatusRow]]
    events_by_container: DataLoader[str, list[ClusterEventRow]]
    usage_by_deployment: DataLoader[str, list[UsageSampleRow]]
    # keyed by (tenant_org_id, user): the users listed in an organisation tree
    user_quota: DataLoader[tuple[str, str], QuotaReport]
    # connections: keyed by (listing, page, the parent's values); one statement per
    # listing and page asked for, whatever the number of parents
    pages: DataLoader[tuple[Listing, PageRequest, tuple[Any, ...]], Slice]
    counts: DataLoader[tuple[Listing, tuple[Any, ...]], int]
    # The GraphQL objects built from loaded container rows, by id: built once per
    # request however many lists show them (app.api.graphql.types.containers_of).
    containers: dict[str, Any] = field(default_factory=dict)
    # An organisation's loaded container rows by user, keyed (tenant_org_id,
    # include_deleted):
    # grouped once however many of its users are shown.
    rows_by_user: dict[tuple[str, bool], dict[str, list[Any]]] = field(default_factory=dict)


def make_loaders(sessions: SessionFactory, scope: Scope, quotas: QuotaDefaults) -> Loaders:
    async def user_quotas(
        session: AsyncSession, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], QuotaReport]:
        found: dict[tuple[str, str], QuotaReport] = {}
        for org in {org for org, _ in keys}:
            users = [user for key_org, user in keys if key_org == org]
            reports = await quota_settings.user_reports(
                session=session, tenant_org_id=org, users=users, defaults=quotas
            )
            found.update({(org, user): report for user, report in reports.items()})
        return found

    async def load_pages(
        keys: list[tuple[Listing, PageRequest, tuple[Any, ...]]],
    ) -> list[Slice]:
        found: dict[tuple[Listing, PageRequest, tuple[Any, ...]], Slice] = {}
        async with sessions() as session:
            for (listing, page), parents in _grouped(keys).items():
                slices = await paging.pages(
                    session=session,
                    statement=listing.statement(scope),
                    parents=listing.parents,
                    keys=parents,
                    page=page,
                )
                found.update({(listing, page, key): s for key, s in slices.items()})
        return [found[key] for key in keys]

    async def load_deployments_of_lists(
        keys: list[tuple[str, ...]],
    ) -> list[dict[str, DeploymentStatusRow]]:
        async with sessions() as session:
            found = await queries.deployments_of_containers(
                session=session, container_ids=sorted({i for key in keys for i in key}), plain=True
            )
        return [{i: found[i] for i in key if i in found} for key in keys]

    async def load_org_containers(
        keys: list[tuple[str, bool, bool, Reading]],
    ) -> list[OrgContainers]:
        readings = [reading for *_, reading in keys]
        async with sessions() as session:
            found = await queries.containers_of_orgs(
                session=session,
                scope=scope,
                keys=[(org, include_deleted) for org, include_deleted, *_ in keys],
                with_deployments=any(deployments for _, _, deployments, _ in keys),
                container_columns=_union(reading.containers for reading in readings),
                deployment_columns=_union(reading.deployments for reading in readings),
            )
        return [found[org, include_deleted] for org, include_deleted, *_ in keys]

    async def load_counts(keys: list[tuple[Listing, tuple[Any, ...]]]) -> list[int]:
        found: dict[tuple[Listing, tuple[Any, ...]], int] = {}
        async with sessions() as session:
            for (listing,), parents in _grouped(keys).items():
                numbers = await paging.counts(
                    session=session,
                    statement=listing.statement(scope),
                    table=listing.kind.table,
                    parents=listing.parents,
                    keys=parents,
                )
                found.update({(listing, key): n for key, n in numbers.items()})
        return [found[key] for key in keys]

    return Loaders(
        org_containers=DataLoader(load_fn=load_org_containers),
        deployment_by_container=_batched(
            sessions,
            lambda s, keys: queries.deployments_of_containers(
                session=s, container_ids=keys, plain=True
            ),
            lambda: None,
        ),
        deployments_of_lists=DataLoader(load_fn=load_deployments_of_lists),
        events_by_container=_batched(
            sessions,
            lambda s, keys: queries.events_of_containers(session=s, container_ids=keys),
            list,
        ),
        usage_by_deployment=_batched(
            sessions,
            lambda s, keys: queries.usage_history(session=s, deployment_ids=keys),
            list,
        ),
        # Every key is found: a user without a quota of its own has the default.
        user_quota=_batched(sessions, user_quotas, _never),
        pages=DataLoader(load_fn=load_pages),
        counts=DataLoader(load_fn=load_counts),
    )


def _grouped(keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Keys whose last part is a parent, grouped by the rest (the statement to run)."""
    groups: dict[tuple[Any, ...], dict[tuple[Any, ...], None]] = {}
    for key in keys:
        groups.setdefault(key[:-1], {})[key[-1]] = None
    return {rest: list(parents) for rest, parents in groups.items()}


def _union(column_sets: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The columns any of ``column_sets`` reads; None (every column) if one does."""
    union: frozenset[str] = frozenset()
    for columns in column_sets:
        if columns is None:
            return None
        union |= columns
    return union


def _never() -> QuotaReport:
    raise AssertionError("every user's quota is found")  # pragma: no cover
