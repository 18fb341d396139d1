"""The SQL statements an organisation tree costs do not grow with the tree: counted
on the real engine (a ``before_cursor_execute`` listener, as benchmarks/org_tree.py
counts) while the query runs over HTTP against the app in process, for an
organisation of 10 and one of 500 clusters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event

from app.tenancy import commands
from tests.support.factories import cluster_request
from tests.support.inprocess import InProcessServer, graphql, serve_in_process

pytestmark = pytest.mark.asyncio(loop_scope="module")

SIZES = {"tree-10": 10, "tree-500": 500}

# The frontend's tree: containers, deployment, details, events, users.
TREE = """
query($org: String!) { organization(id: $org) {
  containers { id serviceName status deployment { status replicas details { diskSize } }
               events { from to at } }
  users { name containers { id namespace events { to } } }
} }
"""
# The same through connections: a page of the organisation's, each with its events
# page, and every user's first page (batched across users).
PAGE = """
query($org: String!) { organization(id: $org) {
  containersConnection(first: 100, orderBy: NAME) { totalCount
    edges { cursor node { id status deployment { details { diskSize } }
      eventsConnection(first: 5) { totalCount edges { node { to } } } } }
    pageInfo { hasNextPage endCursor } }
  users { name containersConnection(first: 3, filter: {hasGpu: false}) {
    totalCount edges { node { id } } } }
  usersConnection(first: 5) { totalCount edges { cursor node { name quota { currentUsage { clusters } }
    containers { id } containersConnection(first: 2) { totalCount edges { node { id } } } } }
    pageInfo { hasNextPage } }
} }
"""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InProcessServer]:
    # No reconciler pass while statements are counted.
    async with serve_in_process(
        tmp_path_factory.mktemp("statements"), reconcile_interval_seconds=3600
    ) as server:
        runtime = server.runtime
        for org, count in SIZES.items():
            for n in range(count):
                request = cluster_request(org, f"u{n % 7}", f"s{n}")
                await commands.create_cluster(
                    sessions=runtime.sessions, ids=runtime.ids, request=request
                )
        yield server


async def statements_of(app: InProcessServer, query: str, org: str) -> int:
    """The statements one answer to ``query`` costs (the fewest of three runs, so that
    nothing running beside it in the server is counted)."""
    engine = app.runtime.sessions.kw["bind"].sync_engine
    counts = []
    async with app.client() as admin:
        for _ in range(3):
            statements: list[str] = []

            def note(*args: Any, into: list[str] = statements) -> None:
                into.append(args[2])

            event.listen(engine, "before_cursor_execute", note)
            try:
                body = await graphql(admin, query, {"org": org})
            finally:
                event.remove(engine, "before_cursor_execute", note)
            assert "errors" not in body, body
            counts.append(len(statements))
            tree = body["data"]["organization"]
            listed = tree.get("containers") or tree["containersConnection"]["edges"]
            assert len(listed) == min(SIZES[org], 100 if "containersConnection" in tree else 500)
            assert len(tree["users"]) == 7
            if "usersConnection" in tree:
                assert tree["usersConnection"]["totalCount"] == 7
                assert len(tree["usersConnection"]["edges"]) == 5
    return min(counts)


@pytest.mark.parametrize("query", [TREE, PAGE], ids=["tree", "connection-page"])
async def test_the_statements_of_a_tree_do_not_grow_with_it(
    app: InProcessServer, query: str
) -> None:
    counts = [await statements_of(app, query, org) for org in SIZES]
    assert counts[0] == counts[1], counts
    # A handful: the cost estimate's count, then one per level of the tree (the page
    # has more levels: a users' page and its count, their quotas, two pages of theirs).
    assert counts[0] <= (10 if query is TREE else 16), counts
