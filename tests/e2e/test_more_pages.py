"""The organisation's users as a connection, and the REST pages of a cluster's events,
the audit log and the API keys: every row once, in order, however many are added
between pages; bad cursors and limits refused. Over HTTP against the app in process,
on its real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import update
from sqlmodel import col, select

from app.api.graphql.schema import sdl
from app.store.tables import ClusterEventRow, TenantContainerRow, utcnow
from app.tenancy import commands
from tests.e2e.test_connections import _cursor, ok, walk_rest
from tests.support.factories import cluster_request
from tests.support.inprocess import InProcessServer, graphql, serve_in_process

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORG = "users-a"
USERS = 23  # each with one or two clusters
GONE = "u-gone"  # a user whose only cluster is deleted
EVENTS = 25  # written for one cluster, beside its own first event

USERS_PAGE = """
query($org: String!, $first: Int, $after: String, $deleted: Boolean! = false) {
  organization(id: $org) {
    usersConnection(first: $first, after: $after, includeDeleted: $deleted) {
      totalCount
      edges { cursor node { name containers { id status } quota { currentUsage { clusters } }
              containersConnection(first: 1) { totalCount edges { node { id } } } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
USERS_LIST = """
query($org: String!, $deleted: Boolean! = false) { organization(id: $org) {
  users(includeDeleted: $deleted) { name containers { id status }
    quota { currentUsage { clusters } }
    containersConnection(first: 1) { totalCount edges { node { id } } } } } }
"""


def _user(n: int) -> str:
    # Names in another order than creation.
    return f"u-{(n * 7) % USERS:02d}"


async def _add(app: InProcessServer, org: str, user: str, service: str) -> str:
    runtime = app.runtime
    row = await commands.create_cluster(
        sessions=runtime.sessions, ids=runtime.ids, request=cluster_request(org, user, service)
    )
    return row.id


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[InProcessServer]:
    async with serve_in_process(tmp_path_factory.mktemp("more-pages")) as server:
        # Records only (no provisioning): listings need nothing more.
        for n in range(USERS):
            await _add(server, ORG, _user(n), "one")
            if n % 3 == 0:
                await _add(server, ORG, _user(n), "two")
        gone = await _add(server, ORG, GONE, "one")
        await _add(server, "users-b", "u-other", "one")
        await _add(server, "events-a", "ev", "svc")
        async with server.runtime.sessions() as session:
            await session.exec(
                update(TenantContainerRow)
                .where(col(TenantContainerRow.id) == gone)
                .values(status="deleted", deleted_at=utcnow())
            )
            await session.commit()
        yield server


async def walk_users(
    client: httpx.AsyncClient,
    *,
    first: int,
    deleted: bool = False,
    between: Callable[[], Awaitable[Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[int], int]:
    """Every user of ORG's usersConnection, page by page: (nodes, page sizes, totalCount)."""
    nodes: list[dict[str, Any]] = []
    sizes: list[int] = []
    after = None
    while True:
        variables = {"org": ORG, "first": first, "after": after, "deleted": deleted}
        connection = ok(await graphql(client, USERS_PAGE, variables))["organization"][
            "usersConnection"
        ]
        edges = connection["edges"]
        nodes += [edge["node"] for edge in edges]
        sizes.append(len(edges))
        info = connection["pageInfo"]
        assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            return nodes, sizes, connection["totalCount"]
        after = info["endCursor"]
        if between is not None:
            await between()


@pytest.mark.parametrize("deleted", [False, True])
async def test_users_pages_are_the_users_list(app: InProcessServer, deleted: bool) -> None:
    async with app.client() as client:
        listed = ok(await graphql(client, USERS_LIST, {"org": ORG, "deleted": deleted}))
        nodes, sizes, total = await walk_users(client, first=5, deleted=deleted)
    users = listed["organization"]["users"]
    expected = sorted({_user(n) for n in range(USERS)} | ({GONE} if deleted else set()))
    assert [user["name"] for user in users] == expected
    # Each node is the user exactly as the plain list gives it.
    assert nodes == users
    assert total == len(expected) == (USERS + 1 if deleted else USERS)
    assert sizes == [5] * (len(expected) // 5) + [len(expected) % 5]
    gone = [user for user in nodes if user["name"] == GONE]
    assert [c["status"] for user in gone for c in user["containers"]] == (
        ["deleted"] if deleted else []
    )


async def test_a_users_page_of_100_and_of_0(app: InProcessServer) -> None:
    async with app.client() as client:
        nodes, sizes, total = await walk_users(client, first=100)
        assert sizes == [USERS] and total == USERS == len(nodes)
        empty = ok(await graphql(client, USERS_PAGE, {"org": ORG, "first": 0}))
    connection = empty["organization"]["usersConnection"]
    assert connection["edges"] == [] and connection["pageInfo"]["hasNextPage"] is True


async def test_users_added_between_pages_neither_repeat_nor_skip(app: InProcessServer) -> None:
    async with app.client() as client:
        before = [n["name"] for n in (await walk_users(client, first=100))[0]]
        added: list[str] = []

        async def add_users() -> None:
            # One sorting before every name, one after: only the later can show.
            for name in (f"a-new-{len(added):03d}", f"z-new-{len(added):03d}"):
                await _add(app, ORG, name, "one")
                added.append(name)

        try:
            nodes, _, _ = await walk_users(client, first=4, between=add_users)
        finally:
            async with app.runtime.sessions() as session:  # the other tests' ORG again
                await session.exec(
                    update(TenantContainerRow)
                    .where(col(TenantContainerRow.user).in_(added))
                    .values(status="deleted", deleted_at=utcnow())
                )
                await session.commit()
    names = [n["name"] for n in nodes]
    assert len(names) == len(set(names))
    assert names == sorted(names)
    assert set(before) <= set(names)
    assert {n for n in added if n.startswith("z-")} <= set(names)
    assert not {n for n in added if n.startswith("a-")} & set(names)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("first: 101", "first must be between 0 and 100"),
        ("first: -1", "first must be between 0 and 100"),
        ('after: "garbage"', "after must be a cursor"),
        (f'after: "{_cursor(["created", "2026-01-01T00:00:00", "x"])}"', "user order"),
        (f'after: "{_cursor(["user", 7])}"', "after must be a cursor"),
    ],
)
async def test_bad_users_arguments_are_bad_user_input(
    app: InProcessServer, arguments: str, says: str
) -> None:
    query = f'{{ organization(id: "{ORG}") {{ usersConnection({arguments}) {{ totalCount }} }} }}'
    async with app.client() as client:
        body = await graphql(client, query)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]


async def test_another_organisations_key_sees_no_users(app: InProcessServer) -> None:
    async with app.client() as admin:
        issued = await admin.post("/api-keys", json={"tenant_org_id": "users-b", "name": "b"})
        assert issued.status_code == 201, issued.text
    async with app.client(token=issued.json()["secret"]) as other:
        body = ok(await graphql(other, USERS_PAGE, {"org": ORG, "first": 5}))
        assert body["organization"]["usersConnection"]["totalCount"] == 0
        own = ok(await graphql(other, USERS_PAGE, {"org": "users-b", "first": 5}))
    edges = own["organization"]["usersConnection"]["edges"]
    assert [edge["node"]["name"] for edge in edges] == ["u-other"]


async def test_the_plain_users_list_is_deprecated_in_the_sdl() -> None:
    text = sdl()
    users = text[text.index("  users(") :]
    users = users[: users.index("\n\n")]
    assert '@deprecated(reason: "Use usersConnection' in users
    connection = text[text.index("  usersConnection(") :]
    assert connection[: connection.index("\n\n")].count('"""') >= 2  # described
    assert "@deprecated" not in connection[: connection.index("OrganizationUserConnection!")]


# -- REST ---------------------------------------------------------------------------


async def _events(
    app: InProcessServer, container_id: str, count: int, label: str = "seeded"
) -> None:
    async with app.runtime.sessions() as session:
        for n in range(count):
            session.add(
                ClusterEventRow(
                    container_id=container_id,
                    at=utcnow(),
                    from_status="pending",
                    to_status="pending",
                    reason=f"{label} {n}",
                )
            )
        await session.commit()


async def walk_rest_with(
    client: httpx.AsyncClient, url: str, between: Callable[[], Awaitable[Any]]
) -> list[dict[str, Any]]:
    """Every row of a REST listing, following its Link, calling ``between`` each page."""
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = await client.get(next_url)
        assert response.status_code == 200, response.text
        rows += response.json()
        link = response.headers.get("link")
        next_url = None if link is None else link[1 : -len('>; rel="next"')]
        if next_url is not None:
            await between()
    return rows


async def test_a_clusters_events_page_by_page(app: InProcessServer) -> None:
    async with app.runtime.sessions() as session:
        container = (
            await session.exec(
                select(TenantContainerRow.id).where(col(TenantContainerRow.user) == "ev")
            )
        ).one()
    await _events(app, container, EVENTS)
    url = "/tenant/containers/ev/svc/events"
    async with app.client() as client:
        whole = await client.get(url)
        assert whole.status_code == 200 and "link" not in whole.headers
        everything = whole.json()
        assert len(everything) == EVENTS + 1
        written: list[int] = []

        async def another() -> None:
            await _events(app, container, 1, label=f"later {len(written)}")
            written.append(1)

        rows = await walk_rest_with(client, f"{url}?limit=4", another)
        # Every event once, in order; those written meanwhile follow (ids grow), each once.
        assert rows[: len(everything)] == everything
        assert [row["reason"] for row in rows[len(everything) :]] == [
            f"later {n} 0" for n in range(len(written))
        ]
        assert len(written) >= EVENTS // 4
        page = await client.get(f"{url}?limit=100")
        assert "link" not in page.headers and len(page.json()) == len(rows)
        only_cursor = await client.get(f"{url}?cursor=")
        assert only_cursor.json() == page.json()


async def test_the_audit_log_page_by_page(app: InProcessServer) -> None:
    async with app.client() as client:
        for n in range(9):
            body = {"tenant_org_id": "audit-a", "name": f"k{n}"}
            made = await client.post("/api-keys", json=body)
            assert made.status_code == 201
        everything = (await client.get("/audit?limit=1000")).json()
        assert len(everything) >= 9
        # limit alone keeps its meaning: the newest N, now with the next page named.
        newest = await client.get("/audit?limit=3")
        assert newest.json() == everything[:3]
        assert newest.headers["x-next-cursor"]
        # Newest first: entries written meanwhile are newer than every page's position.
        async def audited() -> None:
            await client.post("/api-keys", json={"tenant_org_id": "audit-a", "name": "later"})

        rows = await walk_rest_with(client, "/audit?limit=3", audited)
        assert rows == everything
        org_only = (await client.get("/audit?tenant_org_id=audit-a&limit=1000")).json()
        paged, _ = await walk_rest(client, "/audit?tenant_org_id=audit-a&limit=2")
        assert paged == [row["id"] for row in org_only] and len(paged) >= 9
        # Without limit: the newest 100, as before.
        plain = await client.get("/audit")
        assert plain.json() == (await client.get("/audit?limit=1000")).json()[:100]


async def test_api_keys_page_by_page(app: InProcessServer) -> None:
    async with app.client() as client:
        for n in range(7):
            made = await client.post("/api-keys", json={"tenant_org_id": "keys-a", "name": f"k{n}"})
            assert made.status_code == 201
        whole = await client.get("/api-keys?tenant_org_id=keys-a")
        assert "link" not in whole.headers
        everything = whole.json()
        assert len(everything) == 7

        async def another() -> None:
            await client.post("/api-keys", json={"tenant_org_id": "keys-a", "name": "later"})

        rows = await walk_rest_with(client, "/api-keys?tenant_org_id=keys-a&limit=2", another)
        # Oldest first: the keys made meanwhile follow, each once.
        assert rows[:7] == everything
        assert [row["name"] for row in rows[7:]] == ["later"] * (len(rows) - 7)
        assert len({row["id"] for row in rows}) == len(rows) > 7
        all_keys = [row["id"] for row in (await client.get("/api-keys")).json()]
        paged, sizes = await walk_rest(client, "/api-keys?limit=100")
        assert paged == all_keys and sizes == [len(all_keys)]


@pytest.mark.parametrize(
    "path",
    ["/tenant/containers/ev/svc/events", "/api-keys", "/audit"],
)
@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        f"cursor={_cursor(['created', '2026-01-01T00:00:00', 'x'])}",
        f"limit=2&cursor={_cursor(['user', 'u-01'])}",
        "limit=0",
        "limit=-1",
        "limit=two",
        "limit=²",
    ],
)
async def test_bad_rest_pages_are_400(app: InProcessServer, path: str, query: str) -> None:
    async with app.client() as client:
        response = await client.get(f"{path}?{query}")
    assert response.status_code == 400, (path, query, response.text)
    assert set(response.json()) == {"error"}


async def test_rest_limit_bounds(app: InProcessServer) -> None:
    async with app.client() as client:
        for path in ("/tenant/containers/ev/svc/events", "/api-keys"):
            assert (await client.get(f"{path}?limit=100")).status_code == 200
            refused = await client.get(f"{path}?limit=101")
            assert refused.status_code == 400
            assert refused.json() == {"error": "limit must be an integer between 1 and 100"}
        assert (await client.get("/audit?limit=1000")).status_code == 200
        refused = await client.get("/audit?limit=1001&cursor=")
        assert refused.json() == {"error": "limit must be an integer between 1 and 1000"}
