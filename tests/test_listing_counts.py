"""The counts a cost estimate multiplies by come from one statement over the caller's
scope, whatever the size of the tree, and never include what the caller cannot see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from app.access.principals import Principal
from app.api.graphql.context import Context
from app.api.graphql.cost_limit import CostBudget
from app.api.graphql.schema import DEFAULT_LIMITS, make_schema
from app.runtime import Runtime, open_runtime
from app.settings import KubeMode, Settings
from app.store.tables import ClusterEventRow, TenantContainerRow, utcnow
from app.tenancy import commands, queries
from app.tenancy.queries import ListingCounts
from app.tenancy.scope import Scope
from tests.support.databases import database_url_for
from tests.support.factories import cluster_request

TREE = """
query($id: String!) {
  organization(id: $id) {
    containers { id deployment { status details { diskSize } } events { to } }
    users { name containers { deployment { id } } }
  }
}
"""


def _schema(*, max_cost: int) -> Any:
    return make_schema(**DEFAULT_LIMITS, cost=CostBudget(max_cost=max_cost, max_rows=5000))


async def _org_with(runtime: Runtime, org: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        request = cluster_request(org, f"u{n % 3}", f"s{n}")
        row = await commands.create_cluster(
            sessions=runtime.sessions, ids=runtime.ids, request=request
        )
        ids.append(row.id)
    return ids


async def test_counts_per_organisation_live_and_with_deleted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    async with open_runtime(settings) as runtime:
        ids = await _org_with(runtime, "counted", 5)
        await _org_with(runtime, "foreign", 7)
        # Two more events for one cluster, and one cluster deleted (with its event).
        async with runtime.sessions() as session:
            for container_id, to in [(ids[0], "creating"), (ids[0], "failed"), (ids[4], "deleted")]:
                session.add(ClusterEventRow(container_id=container_id, at=utcnow(), to_status=to))
            deleted = await session.get(TenantContainerRow, ids[4])
            assert deleted is not None
            deleted.deleted_at = utcnow()
            session.add(deleted)
            await session.commit()
        async with runtime.sessions() as session:
            every = await queries.listing_counts(session=session, scope=Scope.everything())
            own = await queries.listing_counts(
                session=session,
                scope=Scope(tenant_org_id="counted"),
                tenant_org_ids=["counted", "foreign"],
            )
            named = await queries.listing_counts(
                session=session, scope=Scope.everything(), tenant_org_ids=["foreign"]
            )
            of_a_user = await queries.listing_counts(
                session=session, scope=Scope(tenant_org_id="counted", user="u0")
            )
            without_events = await queries.listing_counts(
                session=session, scope=Scope.everything(), with_events=False
            )
    # events: 1 each (recorded) + 2 for ids[0] + 1 for the deletion of ids[4]
    assert every[("counted", True)] == ListingCounts(clusters=5, users=3, events=8, most_events=3)
    assert every[("counted", False)] == ListingCounts(clusters=4, users=3, events=6, most_events=3)
    assert every[("foreign", False)] == ListingCounts(clusters=7, users=3, events=7, most_events=1)
    # A caller's counts never include another organisation's rows.
    assert set(own) == {("counted", True), ("counted", False)}
    assert set(named) == {("foreign", True), ("foreign", False)}
    # u0 holds ids[0] and ids[3]
    assert of_a_user[("counted", False)] == ListingCounts(
        clusters=2, users=1, events=4, most_events=3
    )
    # Without the events: the same clusters and users, no events counted.
    assert without_events == {
        key: ListingCounts(clusters=c.clusters, users=c.users) for key, c in every.items()
    }


async def test_the_cost_check_adds_one_statement_whatever_the_tree(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    schema = _schema(max_cost=100_000)
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "small-org", 2)
        await _org_with(runtime, "large-org", 40)
        engine = runtime.sessions.kw["bind"]
        counts = {}
        for org in ("small-org", "large-org"):
            statements: list[Any] = []

            def note(*args: Any, into: list[Any] = statements) -> None:
                into.append(args[2])

            event.listen(engine.sync_engine, "before_cursor_execute", note)
            try:
                context = Context(runtime=runtime, principal=Principal.admin())
                result = await schema.execute(
                    TREE, variable_values={"id": org}, context_value=context
                )
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", note)
            assert result.errors is None, result.errors
            counts[org] = len(statements)
    # containers, deployments, events, and the count for the estimate
    assert counts["small-org"] == counts["large-org"] <= 4


async def test_events_are_counted_only_for_an_operation_listing_them(tmp_path: Path) -> None:
    """The estimate's counting statement counts each cluster's events only when the
    operation lists events; either way the answer, and a refusal, are the same."""
    settings = Settings(data_dir=tmp_path, kube_mode=KubeMode.SANDBOX, database_url=database_url_for(tmp_path))
    without_events = TREE.replace("events { to }", "")
    async with open_runtime(settings) as runtime:
        await _org_with(runtime, "org", 30)
        engine = runtime.sessions.kw["bind"]
        for budget, refused in ((100_000, False), (50, True)):
            schema = _schema(max_cost=budget)
            for query, counts_events in ((TREE, True), (without_events, False)):
                statements: list[str] = []

                def note(*args: Any, into: list[str] = statements) -> None:
                    into.append(str(args[2]))

                event.listen(engine.sync_engine, "before_cursor_execute", note)
                try:
                    context = Context(runtime=runtime, principal=Principal.admin())
                    result = await schema.execute(
                        query, variable_values={"id": "org"}, context_value=context
                    )
                finally:
                    event.remove(engine.sync_engine, "before_cursor_execute", note)
                assert (result.errors is not None) is refused, result.errors
                [counting] = [s for s in statements if "count(DISTINCT" in s]
                assert ("cluster_events" in counting) is counts_events
