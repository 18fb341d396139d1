"""An organisation's users, paged by name in one statement for several organisations
(a window per organisation), and the REST listings' single-parent pages: on SQLite,
and on PostgreSQL when TEST_POSTGRES_URL is set."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from app.store.db import SessionFactory
from app.store.tables import TenantContainerRow, utcnow
from app.tenancy import commands, listings, paging
from app.tenancy.naming import IdSequence
from app.tenancy.paging import PageRequest
from app.tenancy.scope import Scope
from tests.support.factories import cluster_request

ALL = Scope.everything()


async def _seed(sessions: SessionFactory) -> None:
    ids = IdSequence()
    for org, users in (("o-a", ["carol", "alice", "bob", "dave"]), ("o-b", ["zed", "amy"])):
        for user in users:
            for service in ("s1", "s2"):
                request = cluster_request(org, user, service)
                await commands.create_cluster(sessions=sessions, ids=ids, request=request)
    async with sessions() as session:  # dave's clusters are all deleted
        await session.exec(
            update(TenantContainerRow)
            .where(col(TenantContainerRow.user) == "dave")
            .values(status="deleted", deleted_at=utcnow())
        )
        await session.commit()


async def test_users_of_several_organisations_page_by_name(sessions: SessionFactory) -> None:
    await _seed(sessions)
    for deleted, expected in (
        (False, {("o-a",): ["alice", "bob", "carol"], ("o-b",): ["amy", "zed"]}),
        (True, {("o-a",): ["alice", "bob", "carol", "dave"], ("o-b",): ["amy", "zed"]}),
    ):
        listing = listings.users_of_orgs(include_deleted=deleted)
        seen: dict[tuple[str, ...], list[str]] = {key: [] for key in expected}
        page = PageRequest.of(order=listings.USER_ORDER, first=2, after=None)
        async with sessions() as session:
            first = await paging.pages(
                session=session,
                statement=listing.statement(ALL),
                parents=listing.parents,
                keys=list(expected),
                page=page,
            )
            numbers = await paging.counts(
                session=session,
                statement=listing.statement(ALL),
                table=listing.kind.table,
                parents=listing.parents,
                keys=list(expected),
            )
            assert numbers == {key: len(names) for key, names in expected.items()}
            for key, found in first.items():
                seen[key] += [row.user for row in found.rows]
                while found.has_next:
                    after = listings.USER_ORDER.cursor_of(found.rows[-1])
                    found = await listings.read_page(
                        session=session,
                        listing=listing,
                        scope=ALL,
                        page=PageRequest.of(order=listings.USER_ORDER, first=2, after=after),
                        parent=key,
                    )
                    seen[key] += [row.user for row in found.rows]
        assert seen == expected, deleted


async def test_a_scope_limits_the_users(sessions: SessionFactory) -> None:
    await _seed(sessions)
    listing = listings.users_of_orgs(include_deleted=False)
    async with sessions() as session:
        found = await listings.read_page(
            session=session,
            listing=listing,
            scope=Scope(tenant_org_id="o-a", user="bob"),
            page=PageRequest.of(order=listings.USER_ORDER, first=10, after=None),
            parent=("o-a",),
        )
    assert [row.user for row in found.rows] == ["bob"] and not found.has_next
