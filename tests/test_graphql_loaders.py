"""An organisation tree costs the same number of SQL queries whatever its size: the
DataLoaders batch per level instead of querying per container."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, update
from sqlmodel import col

from app.access.principals import Principal
from app.api.graphql.context import Context
from app.api.graphql.schema import schema
from app.runtime import Runtime, open_runtime
from app.settings import KubeMode, Settings
from app.store.tables import TenantContainerRow
from app.tenancy import commands, queries
from app.tenancy.requests import parse_create_request
from app.tenancy.scope import Scope
from tests.support.databases import database_url_for

TREE = """
query($id: String!) {
  organization(id: $id) {
    containers { id deployment { status details { diskSize } } events { to } }
    users { name containers { deployment { id } } }
  }
}
"""


async def _org_with(runtime: Runtime, org: str, count: int) -> None:
    for n in range(count):
        request = parse_create_request(
            {"tenant_org_id": org, "user": f"u{n % 3}", "service_name": f"s{n}"},
            reserved=runtime.reserved_namespaces,
            org_prefixed=False,
        )
        await commands.create_cluster(sessions=runtime.sessions, ids=runtime.ids, request=request)


async def _queries_for_tree(runtime: Runtime, org: str) -> tuple[int, dict[str, Any]]:
    engine = runtime.sessions.kw["bind"]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        context = Context(runtime=runtime, principal=Principal.admin())
        result = await schema.execute(TREE, variable_values={"id": org}, context_value=context)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert result.errors is None, result.errors
    assert result.data is not None
    return len(statements), result.data


async def test_tree_query_count_does_not_grow_with_the_tree(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "small-org", 2)
        await _org_with(runtime, "large-org", 40)
        small, small_data = await _queries_for_tree(runtime, "small-org")
        large, large_data = await _queries_for_tree(runtime, "large-org")
    assert len(small_data["organization"]["containers"]) == 2
    assert len(large_data["organization"]["containers"]) == 40
    assert small == large
    assert large <= 3  # containers, deployments, events


async def test_a_trees_containers_and_deployments_are_one_statement(tmp_path: Path) -> None:
    """Selected by organisation, not by the ids of its containers: one statement with
    a parameter or two, however many containers the tree shows."""
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "org", 30)
        engine = runtime.sessions.kw["bind"]
        deployments: list[tuple[str, int]] = []

        def note(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if "deployment_statuses" in statement:
                deployments.append((statement, len(parameters)))

        event.listen(engine.sync_engine, "before_cursor_execute", note)
        try:
            context = Context(runtime=runtime, principal=Principal.admin())
            result = await schema.execute(TREE, variable_values={"id": "org"}, context_value=context)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", note)
    assert result.errors is None and result.data is not None
    containers = result.data["organization"]["containers"]
    assert len(containers) == 30 and all(c["deployment"]["status"] for c in containers)
    users = result.data["organization"]["users"]
    assert len([c["deployment"]["id"] for u in users for c in u["containers"]]) == 30
    [(statement, parameters)] = deployments
    assert "FROM tenant_containers LEFT OUTER JOIN deployment_statuses" in statement
    assert parameters <= 2


async def test_an_orgs_containers_with_deployments_keep_to_the_scope_and_the_live(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "org", 6)  # users u0, u1, u2
        await _org_with(runtime, "other", 2)

        async def listing(scope: Scope, include_deleted: bool) -> queries.OrgContainers:
            async with runtime.sessions() as session:
                found = await queries.containers_of_orgs(
                    session=session,
                    scope=scope,
                    keys=[("org", include_deleted)],
                    with_deployments=True,
                )
            [(key, containers)] = found.items()
            assert key == ("org", include_deleted) and containers.deployments is not None
            assert all(d.container_id == key for key, d in containers.deployments.items())
            return containers

        everything = await listing(Scope(), True)
        deleted = everything.rows[0]
        async with runtime.sessions() as session:
            await session.exec(  # type: ignore[call-overload]
                update(TenantContainerRow)
                .where(col(TenantContainerRow.id) == deleted.id)
                .values(deleted_at=datetime.now(UTC))
            )
            await session.commit()
        ids = {row.id for row in everything.rows}
        assert len(ids) == 6 and set(everything.deployments or {}) == ids

        live = await listing(Scope(), False)
        assert [row.id for row in live.rows] == [row.id for row in everything.rows[1:]]
        assert set(live.deployments or {}) == ids - {deleted.id}

        own = await listing(Scope(tenant_org_id="org", user="u1"), True)
        assert {row.user for row in own.rows} == {"u1"} and len(own.rows) == 2
        assert set(own.deployments or {}) == {row.id for row in own.rows}

        foreign = await listing(Scope(tenant_org_id="other"), True)
        assert foreign.rows == [] and foreign.deployments == {}


async def test_an_answers_rows_and_objects_are_freed_when_the_request_ends(tmp_path: Path) -> None:
    """Without waiting for the cyclic garbage collector: nothing in a reference cycle
    may hold a request's rows or GraphQL objects (the executor is in one, so it must
    not hold the context and its loaders once the answer is built). Held, a large
    tree's memory stayed until the collector's next full pass."""
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "org", 30)
        await _queries_for_tree(runtime, "org")  # warm: plans and caches made once
        gc.collect()
        gc.disable()
        try:
            await _queries_for_tree(runtime, "org")
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            kept = {type(o).__qualname__ for o in gc.garbage}
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
    assert not kept & {"PlainRow", "TenantContainer", "DeploymentStatus", "DeploymentDetails"}
