"""What a caller's Scope lets the queries see, on a real SQLite database: its own rows
only, and another organisation's (or user's) cluster answered word for word as one
that does not exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import col, select

from app.store.db import SessionFactory, make_engine, make_session_factory, migrate_async
from app.store.tables import TenantContainerRow
from app.tenancy import commands, queries
from app.tenancy.errors import Forbidden, NotFound
from app.tenancy.naming import IdSequence
from app.tenancy.scope import Scope
from tests.support.databases import resolved_database_url
from tests.support.factories import cluster_request

CLUSTERS = [("acme", "alice", "search"), ("acme", "bob", "search"), ("other", "carol", "search")]
SCOPES = {
    "admin": (Scope.everything(), {"alice", "bob", "carol"}),
    "acme": (Scope(tenant_org_id="acme"), {"alice", "bob"}),
    "acme/alice": (Scope(tenant_org_id="acme", user="alice"), {"alice"}),
    "other": (Scope(tenant_org_id="other"), {"carol"}),
}


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    url = resolved_database_url(tmp_path)
    await migrate_async(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    ids = IdSequence()
    for org, user, service in CLUSTERS:
        request = cluster_request(org, user, service)
        await commands.create_cluster(sessions=factory, ids=ids, request=request)
    yield factory
    await engine.dispose()


@pytest.mark.parametrize("caller", sorted(SCOPES))
async def test_a_scope_sees_its_own_and_hears_of_nothing_else(
    sessions: SessionFactory, caller: str
) -> None:
    scope, visible = SCOPES[caller]
    async with sessions() as session:
        listed = await queries.list_containers(session=session, scope=scope)
        assert {row.user for row in listed} == visible
        for org, user, service in CLUSTERS:
            namespace = f"{org}-{user}-{service}"
            if user in visible:
                found = await queries.find_by_namespace(
                    session=session, scope=scope, namespace=namespace
                )
                assert found.user == user
                continue
            with pytest.raises(NotFound) as foreign:
                await queries.find_by_namespace(session=session, scope=scope, namespace=namespace)
            with pytest.raises(NotFound) as missing:
                await queries.find_by_namespace(session=session, scope=scope, namespace="nobody")
            assert foreign.value.message == missing.value.message.replace("nobody", namespace)
            with pytest.raises(NotFound) as foreign:
                await queries.find_container(
                    session=session, scope=scope, user=user, service_name=service, tenant_org_id=org
                )
            with pytest.raises(NotFound) as missing:
                await queries.find_container(
                    session=session,
                    scope=scope,
                    user="nobody",
                    service_name=service,
                    tenant_org_id=org,
                )
            assert foreign.value.message == missing.value.message.replace("nobody", user)


def test_acting_outside_the_scope_is_forbidden_and_says_where() -> None:
    alice = Scope(tenant_org_id="acme", user="alice")
    alice.require_acting(tenant_org_id="acme", user="alice")
    with pytest.raises(Forbidden, match='may not act for user "bob"'):
        alice.require_acting(tenant_org_id="acme", user="bob")
    with pytest.raises(Forbidden, match='may not act in organisation "other"'):
        Scope(tenant_org_id="acme").require_acting(tenant_org_id="other", user="alice")
    Scope.everything().require_acting(tenant_org_id="other", user="anyone")


@pytest.mark.parametrize("caller", sorted(SCOPES))
async def test_a_statement_built_for_a_kind_of_scope_sees_what_that_scope_sees(
    sessions: SessionFactory, caller: str
) -> None:
    scope, visible = SCOPES[caller]
    kind = Scope.placeholders(org=scope.tenant_org_id is not None, user=scope.user is not None)
    statement = kind.restrict(select(col(TenantContainerRow.user)))
    async with sessions() as session:
        users = (await session.exec(statement, params=scope.parameters())).all()
        assert set(users) == visible
        if scope.parameters():  # without its values it fails; it never sees more
            with pytest.raises(StatementError, match="A value is required for bind parameter"):
                await session.exec(statement)
